import pg from "pg";
import { chainHash, GENESIS_HASH, statedContentHash, statedHashV1 } from "./canonical";
import type { AuditRow } from "./log";

export interface VerifyResult {
  ok: boolean;
  rows: number;
  firstBadId: number | null;
  reason: string | null;
  headId: number | null;
  headHash: string | null;
}

/** A row already verified, to check on from: the rows after it must chain onto its hash. */
export interface ChainPoint {
  id: number;
  hash: string;
}

/** A row as the check reads it: `at` as the ISO text its hash covers, null where no JS Date could have held it. */
type ChainRow = Omit<AuditRow, "at"> & { at: string | null };

const EDITED = "row content does not match its hash (the row was edited)";
const UNLINKED = "previous hash does not match the row before it (a row was removed, inserted or reordered)";

/**
 * Checks rows one at a time in chain order: each row's hash against its content, and each row's
 * prev_hash against the row before it. `contiguous` false (a filtered export) checks the links only
 * where ids follow.
 */
class ChainCheck {
  private prev: ChainPoint | null;
  private count = 0;
  private failure: VerifyResult | null = null;

  constructor(private readonly contiguous: boolean, from: ChainPoint | null) {
    this.prev = from;
  }

  /** False once a row has failed: nothing after it changes the verdict. */
  add(row: ChainRow): boolean {
    if (this.failure) return false;
    this.count++;
    const prev = this.prev;
    const linked = this.contiguous || (prev !== null && row.id === prev.id + 1);
    if (linked && row.prevHash !== (prev?.hash ?? GENESIS_HASH)) return this.fail(row.id, UNLINKED);
    if (!intact(row)) return this.fail(row.id, EDITED);
    this.prev = row;
    return true;
  }

  private fail(id: number, reason: string): false {
    this.failure ??= { ok: false, rows: this.count, firstBadId: id, reason, headId: null, headHash: null };
    return false;
  }

  result(): VerifyResult {
    return this.failure ?? { ok: true, rows: this.count, firstBadId: null, reason: null, headId: this.prev?.id ?? null, headHash: this.prev?.hash ?? null };
  }
}

const timed = (row: ChainRow): row is ChainRow & { at: string } => row.at !== null;

function intact(row: ChainRow): boolean {
  if (!timed(row)) return false;
  if (row.scheme === 1) return statedHashV1(row) === row.hash;
  if (row.scheme !== 2) return false;
  const content = statedContentHash(row);
  // The stored content hash is what sign-offs look rows up by, so it must be right too.
  return content === row.contentHash && chainHash(row.id, row.prevHash, content) === row.hash;
}

/** Checks rows already read (an export file), in pages. */
export async function verifyRows(pages: AsyncIterable<AuditRow[]> | Iterable<AuditRow[]>, contiguous = true, from: ChainPoint | null = null): Promise<VerifyResult> {
  const check = new ChainCheck(contiguous, from);
  for await (const rows of pages) {
    for (const row of rows) {
      if (!check.add({ ...row, at: Number.isNaN(row.at.getTime()) ? null : row.at.toISOString() })) return check.result();
    }
  }
  return check.result();
}

// The columns of AUDIT_COLUMNS, but `at` as the ISO text a JS Date gives (what the hash covers), made by
// the server, which has a core of its own: 100,000 Date parses and toISOString calls were a tenth of
// the check. A timestamp no row could have been hashed with (before year 1, which to_char would print
// without its era, from year 10000, or finer than a millisecond) comes back null and fails its hash.
const VERIFY_ROWS = `
  SELECT id,
         CASE WHEN at >= '0001-01-01 00:00:00+00' AND at < '10000-01-01 00:00:00+00' AND at = date_trunc('milliseconds', at)
              THEN to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END,
         actor, role, action, target_id, rollout_id, changeset_sha256, details, prev_hash, hash, scheme, content_hash
    FROM audit_log
   WHERE id > $1
   ORDER BY id`;

type VerifyTuple = [number, string | null, string | null, string | null, string, string | null, number | null, string | null,
  Record<string, unknown>, string, string, 1 | 2, string | null];

/**
 * Recomputes the chain in id order (after `from`, when given). An edited row fails its own hash; a
 * removed row breaks the next row's prev_hash; a forged or reordered row fails one or the other, since
 * id and predecessor are both inside the hash.
 *
 * One query, checked row by row as it arrives: the server reads and encodes the next rows while this
 * process hashes, and since each row is checked before the next is read from the socket, TCP holds
 * back the rest (10^6 rows never sit in memory). Pages of 1,000 left the server idle during hashing.
 */
export async function verifyAudit(db: Pick<pg.Pool, "connect">, from: ChainPoint | null = null): Promise<VerifyResult> {
  const check = new ChainCheck(true, from);
  const client = await db.connect();
  let broken = false;
  try {
    await new Promise<void>((resolve, reject) => {
      const config: pg.QueryArrayConfig = { text: VERIFY_ROWS, values: [from?.id ?? -1], rowMode: "array" };
      const query = new pg.Query<VerifyTuple>(config);
      query.on("row", (tuple: VerifyTuple) => {
        if (broken) return;
        // This runs inside pg's socket handler, where a throw would take the connection down with it.
        try {
          const [id, at, actor, role, action, targetId, rolloutId, changesetSha256, details, prevHash, hash, scheme, contentHash] = tuple;
          if (check.add({ id, at, actor, role, action, targetId, rolloutId, changesetSha256, details, prevHash, hash, scheme, contentHash })) return;
        } catch (err) {
          reject(err);
        }
        broken = true;
        resolve();
      });
      query.on("end", () => resolve());
      query.on("error", reject);
      client.query(query);
    });
  } finally {
    // A broken chain stops the read where it broke: the connection is dropped rather than drained.
    client.release(broken);
  }
  return check.result();
}
