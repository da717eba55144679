import type pg from "pg";
import { auditHash, GENESIS_HASH, type AuditFields } from "./canonical";

export interface AuditEntry {
  actor: string | null;
  role: string | null;
  action: string;
  targetId?: string | null;
  rolloutId?: number | null;
  changesetSha256?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditRow extends AuditFields {
  hash: string;
}

/**
 * Appends one row to the chain. Must be called on the client that holds the transaction of the
 * change being recorded, so the row and the change commit or roll back together. The transaction
 * lock serializes writers: each reads the head and extends it, so the chain never forks.
 */
export async function appendAudit(tx: pg.ClientBase, entry: AuditEntry): Promise<AuditRow> {
  await tx.query("SELECT pg_advisory_xact_lock(hashtext('indexdeck.audit'))");
  // Under the lock, so ids follow chain order and the head cannot move before this row is in.
  const { rows: [{ id, head }] } = await tx.query<{ id: number; head: string | null }>(
    "SELECT nextval('audit_log_id_seq') AS id, (SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1) AS head",
  );
  // JSON round trip so the hashed details are exactly what jsonb will give back (no undefined, no Dates).
  const details = JSON.parse(JSON.stringify(entry.details ?? {})) as Record<string, unknown>;
  const fields: AuditFields = {
    id,
    at: new Date(),
    actor: entry.actor,
    role: entry.role,
    action: entry.action,
    targetId: entry.targetId ?? null,
    rolloutId: entry.rolloutId ?? null,
    changesetSha256: entry.changesetSha256 ?? null,
    details,
    prevHash: head ?? GENESIS_HASH,
  };
  const hash = auditHash(fields);
  await tx.query(
    `INSERT INTO audit_log (id, at, actor, role, action, target_id, rollout_id, changeset_sha256, details, prev_hash, hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [fields.id, fields.at, fields.actor, fields.role, fields.action, fields.targetId, fields.rolloutId,
      fields.changesetSha256, fields.details, fields.prevHash, hash],
  );
  return { ...fields, hash };
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
  hash`;
