import { hash } from "node:crypto";

// Keys repeat from row to row (every row has the same few detail keys), so their encodings are kept.
const keyPrefixes = new Map<string, string>();
const keyPrefix = (key: string) => {
  let prefix = keyPrefixes.get(key);
  if (prefix === undefined) {
    prefix = `${JSON.stringify(key)}:`;
    if (keyPrefixes.size < 10_000) keyPrefixes.set(key, prefix);
  }
  return prefix;
};

/**
 * JSON with object keys sorted at every depth, so equal values always encode to equal bytes. Plain
 * loops rather than entries/filter/map: `audit verify` encodes every row, and this was most of its time.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value ?? null);
  if (Array.isArray(value)) {
    let out = "";
    for (let i = 0; i < value.length; i++) out += (i ? "," : "") + canonicalJson(value[i]);
    return `[${out}]`;
  }
  const object = value as Record<string, unknown>;
  // The default sort compares UTF-16 code units, as `a < b` did in the encoding scheme 1 rows were hashed with.
  const keys = Object.keys(object).sort();
  let out = "";
  for (const key of keys) {
    const v = object[key];
    if (v !== undefined) out += (out ? "," : "") + keyPrefix(key) + canonicalJson(v);
  }
  return `{${out}}`;
}

export const GENESIS_HASH = "0".repeat(64);

/** What a row says, without its place in the chain. */
export interface AuditContent {
  at: Date;
  actor: string | null;
  role: string | null;
  action: string;
  targetId: string | null;
  rolloutId: number | null;
  changesetSha256: string | null;
  details: Record<string, unknown>;
}

export interface AuditFields extends AuditContent {
  id: number;
  prevHash: string;
}

// One-shot: `audit verify` hashes every row twice, and a Hash object per call cost more than the digest.
const sha256 = (text: string) => hash("sha256", text, "hex");

/** A row's content with `at` as the ISO text its hash covers: `audit verify` reads it as such from the store. */
export type StatedContent = Omit<AuditContent, "at"> & { at: string };

// Only the fields a row states, picked explicitly: a row read from the store carries more (id, hash…).
function statedFields(row: StatedContent) {
  return {
    at: row.at,
    actor: row.actor,
    role: row.role,
    action: row.action,
    targetId: row.targetId,
    rolloutId: row.rolloutId,
    changesetSha256: row.changesetSha256,
    details: row.details,
  };
}

/** Scheme 1 (rows written before migration 010): SHA-256 over every field, the previous row's hash included. */
export function auditHashV1(row: AuditFields): string {
  return statedHashV1({ ...row, at: row.at.toISOString() });
}

export function statedHashV1(row: Omit<AuditFields, "at"> & { at: string }): string {
  // canonicalJson sorts keys, so this is byte for byte the encoding scheme 1 rows were hashed with.
  return sha256(canonicalJson({ id: row.id, ...statedFields(row), prevHash: row.prevHash }));
}

/** Scheme 2: the row's content, hashed by the app before commit. */
export function contentHash(row: AuditContent): string {
  return statedContentHash({ ...row, at: row.at.toISOString() });
}

export function statedContentHash(row: StatedContent): string {
  return sha256(contentJson(row));
}

/**
 * canonicalJson(statedFields(row)), byte for byte, with the top level written out in sorted key order:
 * `audit verify` encodes every row, and sorting the same eight keys each time was half its cost.
 */
function contentJson(row: StatedContent): string {
  const j = canonicalJson;
  return (
    `{"action":${j(row.action)},"actor":${j(row.actor)},"at":${j(row.at)},"changesetSha256":${j(row.changesetSha256)},` +
    `"details":${j(row.details)},"role":${j(row.role)},"rolloutId":${j(row.rolloutId)},"targetId":${j(row.targetId)}}`
  );
}

/** Scheme 2's link, computed by the store at commit (sql/app/010_audit_chain_at_commit.sql). */
export function chainHash(id: number, prevHash: string, content: string): string {
  return sha256(`${id}:${prevHash}:${content}`);
}

/** Scheme 3's link: scheme 2's with the row's MAC (sql/app/014_audit_keyed_rows.sql). */
export function chainHashV3(id: number, prevHash: string, content: string, mac: string): string {
  return sha256(`${id}:${prevHash}:${content}:${mac}`);
}
