import type pg from "pg";
import { auditHashV1, chainHash, contentHash, GENESIS_HASH } from "./canonical";
import { AUDIT_COLUMNS, type AuditRow } from "./log";

export interface VerifyResult {
  ok: boolean;
  rows: number;
  firstBadId: number | null;
  reason: string | null;
  headHash: string | null;
}

const PAGE = 5000;

function rowIntact(row: AuditRow): boolean {
  if (row.scheme === 1) return auditHashV1(row) === row.hash;
  if (row.scheme !== 2) return false;
  const content = contentHash(row);
  // The stored content hash is what sign-offs look rows up by, so it must be right too.
  return content === row.contentHash && chainHash(row.id, row.prevHash, content) === row.hash;
}

/**
 * Checks rows in chain order: each row's hash against its content, and each row's prev_hash against
 * the row before it. `contiguous` false (a filtered export) checks the links only where ids follow.
 */
export async function verifyRows(rows: AsyncIterable<AuditRow> | Iterable<AuditRow>, contiguous = true): Promise<VerifyResult> {
  let prev: AuditRow | null = null;
  let count = 0;
  for await (const row of rows) {
    count++;
    const linked = contiguous || (prev !== null && row.id === prev.id + 1);
    if (linked && row.prevHash !== (prev?.hash ?? GENESIS_HASH)) {
      return { ok: false, rows: count, firstBadId: row.id, reason: "previous hash does not match the row before it (a row was removed, inserted or reordered)", headHash: null };
    }
    if (!rowIntact(row)) {
      return { ok: false, rows: count, firstBadId: row.id, reason: "row content does not match its hash (the row was edited)", headHash: null };
    }
    prev = row;
  }
  return { ok: true, rows: count, firstBadId: null, reason: null, headHash: prev?.hash ?? null };
}

/**
 * Recomputes the chain in id order, a page at a time (keyset pagination, so 10^6 rows never sit in
 * memory). An edited row fails its own hash; a removed row breaks the next row's prev_hash; a forged
 * or reordered row fails one or the other, since id and predecessor are both inside the hash.
 */
export async function verifyAudit(db: Pick<pg.Pool, "query">): Promise<VerifyResult> {
  async function* all() {
    let lastId = -1;
    for (;;) {
      const { rows } = await db.query<AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2`, [lastId, PAGE]);
      yield* rows;
      if (rows.length < PAGE) return;
      lastId = rows[rows.length - 1].id;
    }
  }
  return verifyRows(all());
}
