/**
 * audit/ — the append-only, hash-chained audit log (invariants 6 and 12): appending rows,
 * verifying the chain, anchoring its head outside the store, exporting it.
 */
import type pg from "pg";
import type { Actor } from "../auth/policy";
import { flushAfterCommitting } from "../store/pool";
import { contentHash, type AuditContent, type AuditFields } from "./canonical";
import { requireAuditKey, rowMac } from "./key";

export interface AuditEntry {
  actor: string | null;
  role: string | null;
  action: string;
  targetId?: string | null;
  rolloutId?: number | null;
  changesetSha256?: string | null;
  details?: Record<string, unknown>;
  /** How the actor came: "token 12" for an API token (recorded in details as `via`); a session says nothing. */
  via?: string | null;
}

/** The audit fields that say who acted: the login, the role they acted with and, for a token, which. */
export function auditActor(actor: Actor): { actor: string; role: string; via: string | null } {
  return { actor: actor.email, role: actor.role, via: actor.via ? `token ${actor.via.tokenId}` : null };
}

export interface AuditRow extends AuditFields {
  hash: string;
  /**
   * 1: hashed whole by the app (before migration 010); 2: content hashed by the app, linked at commit;
   * 3: as 2, and the content signed with the audit key (from migration 014).
   */
  scheme: 1 | 2 | 3;
  contentHash: string | null;
  mac: string | null;
}

/**
 * Records one row. Must be called on the client that holds the transaction of the change being
 * recorded: the row waits in audit_pending and a deferred trigger links it into the chain as that
 * transaction commits, so the row and the change commit or roll back together. The chain lock is
 * held only from that trigger to the end of the commit, never across a client round trip, and (in
 * withTransaction) not across the commit's WAL flush either. The id
 * and chain hash exist after commit; the content hash returned here finds the row then. The row is
 * signed here with INDEXDECK_AUDIT_KEY (no extra round trip); without the key nothing is recorded.
 */
export async function appendAudit(tx: pg.ClientBase, entry: AuditEntry): Promise<{ contentHash: string }> {
  const key = requireAuditKey();
  // JSON round trip so the hashed details are exactly what jsonb will give back (no undefined, no Dates).
  const details = JSON.parse(JSON.stringify({ ...entry.details, ...(entry.via ? { via: entry.via } : {}) })) as Record<string, unknown>;
  const content: AuditContent = {
    at: new Date(),
    actor: entry.actor,
    role: entry.role,
    action: entry.action,
    targetId: entry.targetId ?? null,
    rolloutId: entry.rolloutId ?? null,
    changesetSha256: entry.changesetSha256 ?? null,
    details,
  };
  const hash = contentHash(content);
  await tx.query(
    `INSERT INTO audit_pending (at, actor, role, action, target_id, rollout_id, changeset_sha256, details, content_hash, mac)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      content.at,
      content.actor,
      content.role,
      content.action,
      content.targetId,
      content.rolloutId,
      content.changesetSha256,
      content.details,
      hash,
      rowMac(key, hash),
    ],
  );
  flushAfterCommitting(tx);
  return { contentHash: hash };
}

export const AUDIT_COLUMNS = `
  id,
  at,
  actor,
  role,
  action,
  target_id        AS "targetId",
  rollout_id       AS "rolloutId",
  changeset_sha256 AS "changesetSha256",
  details,
  prev_hash        AS "prevHash",
  hash,
  scheme,
  content_hash     AS "contentHash",
  mac`;
