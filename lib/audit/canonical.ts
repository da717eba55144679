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

export interface AuditFields {
  id: number;
  at: Date;
  actor: string | null;
  role: string | null;
  action: string;
  targetId: string | null;
  rolloutId: number | null;
  changesetSha256: string | null;
  details: Record<string, unknown>;
  prevHash: string;
}

/** SHA-256 over the canonical encoding of every field, the previous row's hash included. */
export function auditHash(row: AuditFields): string {
  const encoded = canonicalJson({
    id: row.id,
    at: row.at.toISOString(),
    actor: row.actor,
    role: row.role,
    action: row.action,
    targetId: row.targetId,
    rolloutId: row.rolloutId,
    changesetSha256: row.changesetSha256,
    details: row.details,
    prevHash: row.prevHash,
  });
  return createHash("sha256").update(encoded).digest("hex");
}
