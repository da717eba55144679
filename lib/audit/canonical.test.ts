import { describe, expect, it } from "vitest";
import { auditHashV1, chainHash, contentHash } from "./canonical";

const row = {
  id: 7, at: new Date("2026-01-01T00:00:00.123Z"), actor: "dba@example.com", role: "dba", action: "rollout.approve", targetId: "prod",
  rolloutId: 3, changesetSha256: "ab".repeat(32), details: { comment: "ok", z: [1, { b: 2, a: 1 }] }, prevHash: "0".repeat(64),
};

describe("audit hashes", () => {
  it("keeps scheme 1 byte for byte: chains written before migration 010 must still verify", () => {
    // Computed with the scheme-1 code as it shipped (commit b7349ea).
    expect(auditHashV1(row)).toBe("38c4196b1ce5501dcc9c2a487ba58107d017fc15302ad311f65741fa0e6f9f69");
  });

  it("hashes scheme 2 content without the chain fields, and links it as the store does", () => {
    expect(contentHash(row)).toBe(contentHash({ ...row, details: { z: [1, { a: 1, b: 2 }], comment: "ok" } })); // key order is irrelevant
    expect(contentHash(row)).not.toBe(contentHash({ ...row, actor: "mallory" }));
    // sha256('7:<prev>:<content>') — the text migration 010 hashes with encode(sha256(convert_to(…)))
    expect(chainHash(7, row.prevHash, contentHash(row))).toMatch(/^[0-9a-f]{64}$/);
    expect(chainHash(7, row.prevHash, contentHash(row))).not.toBe(chainHash(8, row.prevHash, contentHash(row)));
  });
});
