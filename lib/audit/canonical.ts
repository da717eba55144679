import { createHash } from "node:crypto";

/** JSON with object keys sorted at every depth, so equal values always encode to equal bytes. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
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

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

// Only the fields a row states, picked explicitly: a row read from the store carries more (id, hash…).
function statedFields(row: AuditContent) {
  return {
    at: row.at.toISOString(),
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
  // canonicalJson sorts keys, so this is byte for byte the encoding scheme 1 rows were hashed with.
  return sha256(canonicalJson({ id: row.id, ...statedFields(row), prevHash: row.prevHash }));
}

/** Scheme 2: the row's content, hashed by the app before commit. */
export function contentHash(row: AuditContent): string {
  return sha256(canonicalJson(statedFields(row)));
}

/** Scheme 2's link, computed by the store at commit (sql/app/010_audit_chain_at_commit.sql). */
export function chainHash(id: number, prevHash: string, content: string): string {
  return sha256(`${id}:${prevHash}:${content}`);
}
