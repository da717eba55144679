import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { auditHashV1, canonicalJson, chainHash, contentHash } from "./canonical";

// The encoding as first written (entries, filter, sort by `<`, map): the definition the faster one must match.
function referenceJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(referenceJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${referenceJson(v)}`).join(",")}}`;
}

const row = {
  id: 7,
  at: new Date("2026-01-01T00:00:00.123Z"),
  actor: "dba@example.com",
  role: "dba",
  action: "rollout.approve",
  targetId: "prod",
  rolloutId: 3,
  changesetSha256: "ab".repeat(32),
  details: { comment: "ok", z: [1, { b: 2, a: 1 }] },
  prevHash: "0".repeat(64),
};

describe("audit hashes", () => {
  it("keeps scheme 1 byte for byte: chains written before migration 010 must still verify", () => {
    // Computed with the scheme-1 code as it shipped (commit b7349ea).
    expect(auditHashV1(row)).toBe("38c4196b1ce5501dcc9c2a487ba58107d017fc15302ad311f65741fa0e6f9f69");
  });

  it("keeps scheme 2 content hashes byte for byte: they are stored and looked up", () => {
    // Computed with contentHash as it shipped in migration 010's commit (canonicalJson of the stated fields).
    expect(contentHash(row)).toBe("0f48d800aa68ef4365ca7c68c3db00655e0521cbbb0f7f6a520ded1939dc19a6");
    const odd = {
      ...row,
      actor: null,
      role: null,
      targetId: null,
      rolloutId: null,
      changesetSha256: null,
      details: { é: "\u2028<script>", "10": 1, "9": [null, true, 1.5e300], a: {} },
    };
    expect(contentHash(odd)).toBe("37352867b196de3596d322f3b8038b9b693279080e9ec1a3282340df15350326");
  });

  it("hashes scheme 2 content without the chain fields, and links it as the store does", () => {
    expect(contentHash(row)).toBe(contentHash({ ...row, details: { z: [1, { a: 1, b: 2 }], comment: "ok" } })); // key order is irrelevant
    expect(contentHash(row)).not.toBe(contentHash({ ...row, actor: "mallory" }));
    // sha256('7:<prev>:<content>') — the text migration 010 hashes with encode(sha256(convert_to(…)))
    expect(chainHash(7, row.prevHash, contentHash(row))).toMatch(/^[0-9a-f]{64}$/);
    expect(chainHash(7, row.prevHash, contentHash(row))).not.toBe(chainHash(8, row.prevHash, contentHash(row)));
  });

  it("encodes any JSON value, undefined members and odd keys included, exactly as the reference does", () => {
    const value = fc.letrec((tie) => ({
      leaf: fc.oneof(fc.string({ unit: "binary" }), fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined)),
      node: fc.oneof(
        { depthSize: "small" },
        tie("leaf"),
        fc.array(tie("node")),
        fc.dictionary(fc.oneof(fc.string({ unit: "binary" }), fc.constantFrom("10", "9", "__proto__", "a", "A", "é")), tie("node")),
      ),
    })).node;
    fc.assert(
      fc.property(value, (v) => canonicalJson(v) === referenceJson(v)),
      { numRuns: 2000 },
    );
  });
});
