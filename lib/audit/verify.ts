import type pg from "pg";
import { auditHash, GENESIS_HASH } from "./canonical";
import { AUDIT_COLUMNS, type AuditRow } from "./log";

export interface VerifyResult {
  ok: boolean;
  rows: number;
  firstBadId: number | null;
  reason: string | null;
  headHash: string | null;
}

const PAGE = 5000;

/**
 * Recomputes the chain in id order, a page at a time (keyset pagination, so 10^6 rows never sit in
 * memory). An edited row fails its own hash; a removed row breaks the next row's prev_hash; a forged
 * or reordered row fails one or the other, since id and predecessor are both inside the hash.
 */
export async function verifyAudit(db: Pick<pg.Pool, "query">): Promise<VerifyResult> {
  let prev = GENESIS_HASH;
  let lastId = -1;
  let count = 0;
  for (;;) {
    const { rows } = await db.query<AuditRow>(
      `SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2`,
      [lastId, PAGE],
    );
    for (const row of rows) {
      count++;
      if (row.prevHash !== prev) {
        return { ok: false, rows: count, firstBadId: row.id, reason: "previous hash does not match the row before it (a row was removed, inserted or reordered)", headHash: null };
      }
      if (auditHash(row) !== row.hash) {
        return { ok: false, rows: count, firstBadId: row.id, reason: "row content does not match its hash (the row was edited)", headHash: null };
      }
      prev = row.hash;
      lastId = row.id;
    }
    if (rows.length < PAGE) break;
  }
  return { ok: true, rows: count, firstBadId: null, reason: null, headHash: count ? prev : null };
}
