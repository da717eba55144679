import pg from "pg";
import { chainHash, chainHashV3, GENESIS_HASH, statedContentHash, statedHashV1 } from "./canonical";
import { auditKeyOrNull, rowMac, sameMac } from "./key";
import type { Checkpoint } from "./anchor";
import type { AuditRow } from "./log";

export interface VerifyResult {
  ok: boolean;
  rows: number;
  firstBadId: number | null;
  reason: string | null;
  headId: number | null;
  headHash: string | null;
  /** The first signed (scheme 3) row seen, or carried in from the checkpoints or the point checked on from. */
  keyedFrom: number | null;
  /** Whether signed rows' MACs were checked (a key was given); without it only the SHA-256 chain was. */
  signaturesChecked: boolean;
}

/** A row already verified, to check on from: the rows after it must chain onto its hash. */
export interface ChainPoint {
  id: number;
  hash: string;
  /** The first signed row before it, if any: rows after it must be signed too. */
  keyedFrom?: number | null;
}

export interface VerifyOptions {
  /** INDEXDECK_AUDIT_KEY's bytes; null checks the SHA-256 chain only. Defaults to the environment's. */
  key?: Buffer | null;
  /** Checkpoints kept outside the store (lib/audit/anchor.ts), already checked against the key. */
  anchor?: Checkpoint[];
}

/** A row as the check reads it: `at` as the ISO text its hash covers, null where no JS Date could have held it. */
type ChainRow = Omit<AuditRow, "at"> & { at: string | null };

const EDITED = "row content does not match its hash (the row was edited)";
const UNLINKED = "previous hash does not match the row before it (a row was removed, inserted or reordered)";
const FORGED = "row signature does not match its content (written or edited without the audit key)";
const UNSIGNED = "unsigned row after signed ones (written without the audit key, or a signed row stripped of its signature)";
const REWRITTEN = "row hash differs from the checkpoint kept outside the store (the chain was rewritten up to here)";

/**
 * Checks rows one at a time in chain order: each row's hash against its content, each row's prev_hash
 * against the row before it, and with a key each signed row's MAC. Once a signed row has been seen
 * (or a checkpoint says rows were signed from some id), an unsigned row is a forgery. Checkpoints pin
 * the hash of the rows they name, and the chain must reach the newest of them. `contiguous` false (a
 * filtered export) checks the links only where ids follow.
 */
class ChainCheck {
  private prev: ChainPoint | null;
  private count = 0;
  private failure: VerifyResult | null = null;
  private keyedFrom: number | null;
  private readonly key: Buffer | null;
  private readonly pinned = new Map<number, Checkpoint>();
  private readonly seenPins = new Set<number>();

  constructor(
    private readonly contiguous: boolean,
    from: ChainPoint | null,
    options: VerifyOptions,
  ) {
    this.prev = from;
    this.key = options.key === undefined ? auditKeyOrNull() : options.key;
    const anchored = (options.anchor ?? []).map((c) => c.keyedFrom).filter((k): k is number => k !== null);
    const carried = from?.keyedFrom ?? null;
    this.keyedFrom = [...anchored, ...(carried === null ? [] : [carried])].reduce<number | null>(
      (a, b) => (a === null ? b : Math.min(a, b)),
      null,
    );
    for (const c of options.anchor ?? []) if (from === null || c.id > from.id) this.pinned.set(c.id, c);
  }

  /** False once a row has failed: nothing after it changes the verdict. */
  add(row: ChainRow): boolean {
    if (this.failure) return false;
    this.count++;
    const prev = this.prev;
    const linked = this.contiguous || (prev !== null && row.id === prev.id + 1);
    if (linked && row.prevHash !== (prev?.hash ?? GENESIS_HASH)) return this.fail(row.id, UNLINKED);
    if (!intact(row)) return this.fail(row.id, EDITED);
    if (row.scheme === 3) {
      this.keyedFrom ??= row.id;
      if (this.key && !sameMac(row.mac, rowMac(this.key, row.contentHash!))) return this.fail(row.id, FORGED);
    } else if (this.keyedFrom !== null && row.id >= this.keyedFrom) return this.fail(row.id, UNSIGNED);
    const pin = this.pinned.get(row.id);
    if (pin && pin.hash !== row.hash) return this.fail(row.id, `${REWRITTEN} (checkpoint of ${pin.at})`);
    if (pin) this.seenPins.add(row.id);
    this.prev = row;
    return true;
  }

  private fail(id: number, reason: string): false {
    this.failure ??= {
      ok: false,
      rows: this.count,
      firstBadId: id,
      reason,
      headId: null,
      headHash: null,
      keyedFrom: this.keyedFrom,
      signaturesChecked: this.key !== null,
    };
    return false;
  }

  result(): VerifyResult {
    if (this.failure) return this.failure;
    // Rows the newest checkpoint saw must still be there: a shorter chain lost its tail.
    const newest = [...this.pinned.values()].reduce<Checkpoint | null>((a, c) => (a === null || c.id > a.id ? c : a), null);
    const headId = this.prev?.id ?? null;
    if (newest && (headId === null || headId < newest.id)) {
      this.fail(
        (headId ?? 0) + 1,
        `the chain ends at row ${headId ?? "(none)"}, but the checkpoint of ${newest.at} saw it reach row ${newest.id} (rows were removed)`,
      );
      return this.failure!;
    }
    // And each row a checkpoint named: relinking around a removed one leaves the rest consistent.
    const lost = [...this.pinned.values()].filter((c) => !this.seenPins.has(c.id)).sort((a, b) => a.id - b.id)[0];
    if (lost) {
      this.fail(lost.id, `row ${lost.id}, the head when the checkpoint of ${lost.at} was written, is missing (rows were removed)`);
      return this.failure!;
    }
    return {
      ok: true,
      rows: this.count,
      firstBadId: null,
      reason: null,
      headId,
      headHash: this.prev?.hash ?? null,
      keyedFrom: this.keyedFrom,
      signaturesChecked: this.key !== null,
    };
  }
}

const timed = (row: ChainRow): row is ChainRow & { at: string } => row.at !== null;

function intact(row: ChainRow): boolean {
  if (!timed(row)) return false;
  if (row.scheme === 1) return statedHashV1(row) === row.hash;
  if (row.scheme !== 2 && row.scheme !== 3) return false;
  const content = statedContentHash(row);
  // The stored content hash is what sign-offs look rows up by, so it must be right too.
  if (content !== row.contentHash) return false;
  if (row.scheme === 2) return chainHash(row.id, row.prevHash, content) === row.hash;
  return typeof row.mac === "string" && chainHashV3(row.id, row.prevHash, content, row.mac) === row.hash;
}

/** Checks rows already read (an export file), in pages. */
export async function verifyRows(
  pages: AsyncIterable<AuditRow[]> | Iterable<AuditRow[]>,
  contiguous = true,
  from: ChainPoint | null = null,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  const check = new ChainCheck(contiguous, from, options);
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
         actor, role, action, target_id, rollout_id, changeset_sha256, details, prev_hash, hash, scheme, content_hash, mac
    FROM audit_log
   WHERE id > $1
   ORDER BY id`;

type VerifyTuple = [
  number,
  string | null,
  string | null,
  string | null,
  string,
  string | null,
  number | null,
  string | null,
  Record<string, unknown>,
  string,
  string,
  1 | 2 | 3,
  string | null,
  string | null,
];

/**
 * Recomputes the chain in id order (after `from`, when given). An edited row fails its own hash; a
 * removed row breaks the next row's prev_hash; a forged or reordered row fails one or the other, since
 * id and predecessor are both inside the hash. Those are plain SHA-256, which whoever can write the
 * table can recompute: with the key (options.key, by default INDEXDECK_AUDIT_KEY) signed rows are
 * checked too, and with options.anchor the chain is held to checkpoints kept outside the store.
 *
 * One query, checked row by row as it arrives: the server reads and encodes the next rows while this
 * process hashes, and since each row is checked before the next is read from the socket, TCP holds
 * back the rest (10^6 rows never sit in memory). Pages of 1,000 left the server idle during hashing.
 */
export async function verifyAudit(
  db: Pick<pg.Pool, "connect">,
  from: ChainPoint | null = null,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  const check = new ChainCheck(true, from, options);
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
          const [id, at, actor, role, action, targetId, rolloutId, changesetSha256, details, prevHash, hash, scheme, contentHash, mac] =
            tuple;
          if (
            check.add({
              id,
              at,
              actor,
              role,
              action,
              targetId,
              rolloutId,
              changesetSha256,
              details,
              prevHash,
              hash,
              scheme,
              contentHash,
              mac,
            })
          )
            return;
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
