/**
 * monitor/ — what the indexes do once built: usage snapshots of every node and their deltas across
 * resets (invariant 7), the index report (unused, duplicate, invalid), latency probes, fleet status.
 */
import { randomBytes } from "node:crypto";
import os from "node:os";
import type pg from "pg";
import { withTransaction } from "../store/pool";
import type { TargetConfig } from "../targets/config";
import { indexCounters, type CounterRow } from "../targets/counters";
import { readNodes, type NodeProblem, type NodeRead } from "../targets/nodes";
import type { NodeClock } from "../targets/inventory";
import { counterDelta, sameCounters, type Previous } from "./deltas";
import { resolveFollowups } from "./followups";
import { addToUsageRates, refreshUsageRates, type SnapshotDeltas } from "./usage";
import { announce } from "../webhooks/notify";
import type { TargetSource } from "../targets/source";

export interface Retention {
  rawHours: number;
  fiveMinuteDays: number;
  hourlyDays: number;
}

export const DEFAULT_RETENTION: Retention = { rawHours: 48, fiveMinuteDays: 30, hourlyDays: 365 };

/** INDEXDECK_RETENTION="48h,30d,365d": raw snapshots, 5-minute buckets, hourly and daily buckets. */
export function retentionFromEnv(value = process.env.INDEXDECK_RETENTION): Retention {
  if (!value) return DEFAULT_RETENTION;
  const m = /^(\d+)h,(\d+)d,(\d+)d$/.exec(value.trim());
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1 || Number(m[3]) < 1)
    throw new Error(`INDEXDECK_RETENTION must look like "48h,30d,365d", got ${value}`);
  return { rawHours: Number(m[1]), fiveMinuteDays: Number(m[2]), hourlyDays: Number(m[3]) };
}

/** INDEXDECK_COLLECT_INTERVAL_MS: how often each target is collected; 60 s unless set (at least 1 s). */
export function collectIntervalFromEnv(value = process.env.INDEXDECK_COLLECT_INTERVAL_MS): number {
  const ms = Number(value ?? 60_000);
  return Number.isFinite(ms) && ms >= 1000 ? ms : 60_000;
}

/** A limited monitoring role is refused with 42501: say which grant lets it collect, not only what was refused. */
function withGrantHint(err: unknown): unknown {
  if ((err as { code?: string }).code !== "42501") return err;
  const message = (err as Error).message;
  const grant = /permission denied for database/.test(message)
    ? "the monitoring role needs CONNECT on the database (GRANT CONNECT ON DATABASE <database> TO <role>)"
    : "the monitoring role needs pg_monitor (GRANT pg_monitor TO <role>)";
  return new Error(`${message}: ${grant}`);
}

/** The parts of one collection, in order; `collectTarget` reports the milliseconds each took. */
export const COLLECT_STEPS = ["query", "read", "last", "deltas", "retention", "rates", "announce", "commit"] as const;
export type CollectStep = (typeof COLLECT_STEPS)[number];

/** Milliseconds per step: each call of `lap` charges the time since the previous one to `step`. */
function stepClock() {
  const ms = Object.fromEntries(COLLECT_STEPS.map((s) => [s, 0])) as Record<CollectStep, number>;
  let mark = performance.now();
  return {
    ms,
    lap(step: CollectStep) {
      const now = performance.now();
      ms[step] += now - mark;
      mark = now;
    },
  };
}

/**
 * One snapshot of a target: a single query on each of its nodes (the primary and every replica, at
 * once), then, in one store transaction, each node's deltas since its last snapshot (reset-safe, on the
 * node's own clock), their 5-minute, hourly and daily rollups, retention and the rates the Indexes page
 * reads. A replica that can't be read, or isn't a replica of this primary, is left out and named in
 * `nodeProblems`; the primary must answer.
 */
export async function collectTarget(
  pool: pg.Pool,
  target: TargetConfig,
  retention = DEFAULT_RETENTION,
): Promise<{
  indexes: number;
  queryMs: number;
  resets: number;
  nodeProblems: Array<{ node: string } & NodeProblem>;
  stepsMs: Record<CollectStep, number>;
  /** Whether the rates took this snapshot's deltas on, or were recomputed from the buckets. */
  rates: "added" | "recomputed";
}> {
  const clock = stepClock();
  let nodes: Array<NodeRead<CounterRow[]>>;
  try {
    nodes = await readNodes(target, indexCounters, {
      applicationName: "indexdeck:collector",
      statementTimeoutMs: 10_000,
      connectTimeoutMs: 5000,
    });
  } catch (err) {
    throw withGrantHint(err);
  }
  clock.lap("query");
  const queryMs = clock.ms.query;
  const takenAt = new Date();
  let resets = 0;
  let rates: "added" | "recomputed" = "recomputed";
  await withTransaction(pool, async (tx) => {
    // The rate refresh reads a target's month of buckets; its cost estimate crosses the JIT threshold,
    // and compiling it took 1.7 s of a snapshot at 10,000 indexes, for a query that runs in well under that.
    await tx.query("SET LOCAL jit = off");
    // Retention's cutoffs fall at the oldest edge of the history, where the histogram's first bucket
    // made the few thousand rows due look like millions, and the plan a scan of the whole table (80 s
    // at 97 million rows); every row this transaction reads or deletes is a range of an index.
    await tx.query("SET LOCAL enable_seqscan = off");
    const stored: SnapshotDeltas[] = [];
    for (const n of nodes) {
      if (!n.data) continue;
      const s = await storeNodeSnapshot(tx, clock, target.id, n.node.id, n.clock, n.data, takenAt, queryMs);
      resets += s.resets;
      stored.push(s.deltas);
    }
    const since = stored.flatMap((d) => d.since).reduce<Date | null>((min, t) => (min && min <= t ? min : t), null);
    await applyRetention(tx, target.id, retention, since);
    clock.lap("retention");
    // Retention that keeps hourly and daily buckets 30 days or more never deletes one inside a window,
    // so the sums stay exact; within an hour and a day only new deltas change them. The sums are one
    // node's: a target with replicas sums each node's rate over its own seconds, recomputed every time.
    const [primary] = stored;
    const added =
      nodes.length === 1 && retention.hourlyDays >= 30 && primary.keys.length > 0 && (await addToUsageRates(tx, target.id, primary));
    if (added) rates = "added";
    else await refreshUsageRates(tx, target.id);
    clock.lap("rates");
    // Validity is the catalog's, which the primary's snapshot holds (a replica's is a copy of it).
    await announceNewInvalid(
      tx,
      target.id,
      nodes[0].data!.filter((r) => !r.valid).map((r) => r.indexKey),
    );
    clock.lap("announce");
  });
  clock.lap("commit");
  const nodeProblems = nodes.flatMap((n) => (n.problem ? [{ node: n.node.id, ...n.problem }] : []));
  return { indexes: nodes[0].data!.length, queryMs, resets, nodeProblems, stepsMs: clock.ms, rates };
}

/**
 * Deletes a target's buckets and snapshots past the retention. Each resolution's deletion starts at
 * the cutoff applied last time (usage_retention), so it reads the rows that became due since, not,
 * until vacuum, every row it deleted before; and at the oldest `since` written now, should a delta
 * have landed below that cutoff (a node back after more than the retention). A target never
 * retained before, or whose cutoff moved back (a longer retention), is deleted from its first row.
 */
async function applyRetention(tx: pg.ClientBase, targetId: string, retention: Retention, since: Date | null): Promise<void> {
  await tx.query(
    `WITH due AS (
       SELECT k.resolution,
              least(coalesce(a.deleted_before, '-infinity'), to_timestamp(floor(extract(epoch FROM $5::timestamptz) / 86400) * 86400)) AS from_start,
              now() - k.keep AS before
         FROM (VALUES ('raw', make_interval(hours => $2)), ('5m', make_interval(days => $3)),
                      ('1h', make_interval(days => $4)), ('1d', make_interval(days => $4))) AS k(resolution, keep)
         LEFT JOIN usage_retention a ON a.target_id = $1 AND a.resolution = k.resolution
     ), deleted AS (
       DELETE FROM usage_delta d USING due
        WHERE d.target_id = $1 AND d.resolution = due.resolution AND d.bucket_start >= due.from_start AND d.bucket_start < due.before
     )
     INSERT INTO usage_retention (target_id, resolution, deleted_before)
     SELECT $1, resolution, before FROM due
     ON CONFLICT (target_id, resolution) DO UPDATE SET deleted_before = excluded.deleted_before`,
    [targetId, retention.rawHours, retention.fiveMinuteDays, retention.hourlyDays, since],
  );
  await tx.query("DELETE FROM usage_snapshot WHERE target_id = $1 AND taken_at < now() - make_interval(hours => $2)", [
    targetId,
    retention.rawHours,
  ]);
}

/**
 * One node's snapshot and its deltas since that node's last one, its steps' time charged to `steps`;
 * returns how many indexes' counters were reset and the deltas written.
 */
async function storeNodeSnapshot(
  tx: pg.ClientBase,
  steps: ReturnType<typeof stepClock>,
  targetId: string,
  node: string,
  clock: NodeClock,
  rows: CounterRow[],
  takenAt: Date,
  queryMs: number,
): Promise<{ resets: number; deltas: SnapshotDeltas }> {
  let resets = 0;
  const { rows: last } = await tx.query<Previous & { indexKey: string; takenAt: Date; valid: boolean }>(
    `SELECT index_key AS "indexKey", taken_at AS "takenAt", stats_reset AS "statsReset", postmaster_start AS "postmasterStart",
            scans, tuples_read AS "tuplesRead", tuples_fetched AS "tuplesFetched", blks_read AS "blksRead", blks_hit AS "blksHit", valid
       FROM usage_last WHERE target_id = $1 AND node = $2`,
    [targetId, node],
  );
  const prevByKey = new Map(
    last.map((l) => [
      l.indexKey,
      {
        ...l,
        scans: Number(l.scans),
        tuplesRead: Number(l.tuplesRead),
        tuplesFetched: Number(l.tuplesFetched),
        blksRead: Number(l.blksRead),
        blksHit: Number(l.blksHit),
      },
    ]),
  );
  const {
    rows: [{ previous }],
  } = await tx.query<{ previous: Date | null }>("SELECT max(taken_at) AS previous FROM usage_snapshot WHERE target_id = $1 AND node = $2", [
    targetId,
    node,
  ]);
  steps.lap("read");
  await tx.query(
    "INSERT INTO usage_snapshot (target_id, node, taken_at, stats_reset, postmaster_start, indexes, query_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    [targetId, node, takenAt, clock.statsReset, clock.postmasterStart, rows.length, queryMs],
  );
  // Deltas are computed here and written in a few set-based statements, so a target with
  // 10,000 indexes costs the store a handful of round trips, not tens of thousands.
  const deltas: Array<{ key: string; since: Date; seconds: number; d: ReturnType<typeof counterDelta> }> = [];
  const changed: CounterRow[] = [];
  for (const cur of rows) {
    const prev = prevByKey.get(cur.indexKey);
    prevByKey.delete(cur.indexKey);
    // An index that appeared after the node's first snapshot was created since: all its activity is new.
    const baseline =
      prev ??
      (previous
        ? {
            scans: 0,
            tuplesRead: 0,
            tuplesFetched: 0,
            blksRead: 0,
            blksHit: 0,
            statsReset: cur.statsReset,
            postmasterStart: cur.postmasterStart,
          }
        : null);
    const d = counterDelta(baseline, cur);
    if (d.reset) resets++;
    if (!prev || !sameCounters(prev, cur)) changed.push(cur);
    // usage_last holds exactly the indexes of the node's last snapshot (see below), so an index in it
    // was compared at that snapshot, even where its row was last written before.
    const since = previous ?? prev?.takenAt;
    if (since) deltas.push({ key: cur.indexKey, since, seconds: (takenAt.getTime() - since.getTime()) / 1000, d });
  }
  // Most indexes are idle between two snapshots: their last counters are already right, and only the
  // ones that moved are written. An index gone from the node leaves, so one made again by the same
  // name starts from nothing, as a new index does, instead of from the counters of the one dropped.
  const gone = [...prevByKey.keys()];
  if (gone.length)
    await tx.query("DELETE FROM usage_last WHERE target_id = $1 AND node = $2 AND index_key = ANY($3::text[])", [targetId, node, gone]);
  if (changed.length)
    await tx.query(
      `INSERT INTO usage_last (target_id, node, index_key, taken_at, stats_reset, postmaster_start, scans, tuples_read, tuples_fetched, blks_read, blks_hit, valid)
       SELECT $1, $12, k, $2, sr, ps, sc, tr, tf, br, bh, v
         FROM unnest($3::text[], $4::timestamptz[], $5::timestamptz[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::boolean[])
           AS u(k, sr, ps, sc, tr, tf, br, bh, v)
       ON CONFLICT (target_id, node, index_key) DO UPDATE SET
         taken_at = excluded.taken_at, stats_reset = excluded.stats_reset, postmaster_start = excluded.postmaster_start,
         scans = excluded.scans, tuples_read = excluded.tuples_read, tuples_fetched = excluded.tuples_fetched,
         blks_read = excluded.blks_read, blks_hit = excluded.blks_hit, valid = excluded.valid`,
      [
        targetId,
        takenAt,
        changed.map((r) => r.indexKey),
        changed.map((r) => r.statsReset),
        changed.map((r) => r.postmasterStart),
        changed.map((r) => r.scans),
        changed.map((r) => r.tuplesRead),
        changed.map((r) => r.tuplesFetched),
        changed.map((r) => r.blksRead),
        changed.map((r) => r.blksHit),
        changed.map((r) => r.valid),
        node,
      ],
    );
  steps.lap("last");
  const snapshot: SnapshotDeltas = {
    keys: deltas.map((x) => x.key),
    since: deltas.map((x) => x.since),
    seconds: deltas.map((x) => x.seconds),
    scans: deltas.map((x) => x.d.scans),
  };
  // The raw deltas and their three rollups in one statement: the arrays cross the wire and are
  // unpacked once, not four times. The open buckets, there for nearly every index, are updated through
  // a join (ON CONFLICT DO UPDATE locked each row before updating it: two records and three times the
  // time for the 30,000 rows of 10,000 indexes); only the buckets not found are inserted.
  await tx.query(
    `WITH u AS (
       SELECT * FROM unnest($2::text[], $3::timestamptz[], $4::float8[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::boolean[])
         AS u(k, since, secs, sc, tr, tf, br, bh, rs)
     ), raw AS (
       INSERT INTO usage_delta (target_id, node, index_key, resolution, bucket_start, seconds, scans, tuples_read, tuples_fetched, blks_read, blks_hit, reset)
       SELECT $1, $11, k, 'raw', since, secs, sc, tr, tf, br, bh, rs FROM u
       ON CONFLICT DO NOTHING
     ), rollup AS (
       SELECT k, b.resolution, to_timestamp(floor(extract(epoch FROM since) / b.width) * b.width) AS bucket_start, secs, sc, tr, tf, br, bh, rs
         FROM u CROSS JOIN (VALUES ('5m', 300), ('1h', 3600), ('1d', 86400)) AS b(resolution, width)
     ), open AS (
       UPDATE usage_delta d SET
         seconds = d.seconds + r.secs, scans = d.scans + r.sc, tuples_read = d.tuples_read + r.tr, tuples_fetched = d.tuples_fetched + r.tf,
         blks_read = d.blks_read + r.br, blks_hit = d.blks_hit + r.bh, reset = d.reset OR r.rs
         FROM rollup r
        WHERE d.target_id = $1 AND d.resolution = r.resolution AND d.bucket_start = r.bucket_start AND d.node = $11 AND d.index_key = r.k
       RETURNING d.resolution, d.index_key
     )
     INSERT INTO usage_delta (target_id, node, index_key, resolution, bucket_start, seconds, scans, tuples_read, tuples_fetched, blks_read, blks_hit, reset)
     SELECT $1, $11, k, resolution, bucket_start, secs, sc, tr, tf, br, bh, rs
       FROM rollup r
      WHERE NOT EXISTS (SELECT 1 FROM open o WHERE o.resolution = r.resolution AND o.index_key = r.k)
     ON CONFLICT (target_id, node, index_key, resolution, bucket_start) DO UPDATE SET
       seconds = usage_delta.seconds + excluded.seconds, scans = usage_delta.scans + excluded.scans,
       tuples_read = usage_delta.tuples_read + excluded.tuples_read, tuples_fetched = usage_delta.tuples_fetched + excluded.tuples_fetched,
       blks_read = usage_delta.blks_read + excluded.blks_read, blks_hit = usage_delta.blks_hit + excluded.blks_hit,
       reset = usage_delta.reset OR excluded.reset`,
    [
      targetId,
      snapshot.keys,
      snapshot.since,
      snapshot.seconds,
      snapshot.scans,
      deltas.map((x) => x.d.tuplesRead),
      deltas.map((x) => x.d.tuplesFetched),
      deltas.map((x) => x.d.blksRead),
      deltas.map((x) => x.d.blksHit),
      deltas.map((x) => x.d.reset),
      node,
    ],
  );
  steps.lap("deltas");
  return { resets, deltas: snapshot };
}

/**
 * Announces each INVALID index once, in the snapshot's transaction (so two servers never both do):
 * one a rollout is building right now is skipped (a concurrent build is INVALID until it ends, and
 * apply itself reports a failed one), and one that became valid or was dropped may be announced again.
 */
async function announceNewInvalid(tx: pg.ClientBase, targetId: string, invalid: string[]): Promise<void> {
  const { rows } = await tx.query<{ indexKey: string }>(
    `WITH building AS (
       SELECT coalesce(t.schema_name, 'public') || '.' || t.index_name AS index_key
         FROM rollout_task t
         JOIN rollout r ON r.id = t.rollout_id
        WHERE r.target_id = $1 AND r.state = 'applying' AND t.index_name IS NOT NULL
     ), healed AS (
       DELETE FROM invalid_index_seen WHERE target_id = $1 AND index_key <> ALL($2::text[])
     )
     INSERT INTO invalid_index_seen (target_id, index_key)
     SELECT $1, k FROM unnest($2::text[]) AS k WHERE k NOT IN (SELECT index_key FROM building)
     ON CONFLICT DO NOTHING
     RETURNING index_key AS "indexKey"`,
    [targetId, invalid],
  );
  const at = new Date().toISOString();
  for (const { indexKey } of rows) {
    await announce(tx, {
      event: "invalid_index",
      targetId,
      rolloutId: null,
      at,
      changeset: null,
      state: null,
      phase: null,
      error: null,
      index: indexKey,
      approverRoles: null,
    });
  }
}

export interface CollectorStatus {
  lastOkAt: Date | null;
  /** The last failure, when it came after the last success. */
  failing: { at: Date; error: string } | null;
}

/** How each target's usage collection stands, by target id; a target not yet collected is absent. */
export async function collectorStatuses(db: Pick<pg.Pool, "query">): Promise<Map<string, CollectorStatus>> {
  const { rows } = await db.query<{ targetId: string; lastOkAt: Date | null; lastError: string | null; lastErrorAt: Date | null }>(
    `SELECT target_id AS "targetId", last_ok_at AS "lastOkAt", last_error AS "lastError", last_error_at AS "lastErrorAt" FROM collector_schedule`,
  );
  return new Map(
    rows.map((r) => [
      r.targetId,
      {
        lastOkAt: r.lastOkAt,
        failing:
          r.lastErrorAt && r.lastError && (!r.lastOkAt || r.lastErrorAt > r.lastOkAt) ? { at: r.lastErrorAt, error: r.lastError } : null,
      },
    ]),
  );
}

/** Targets one app server collects at once unless told otherwise. */
export const DEFAULT_COLLECT_CONCURRENCY = 4;

export interface CollectorOptions {
  pool: pg.Pool;
  targets: TargetSource;
  intervalMs?: number;
  retention?: Retention;
  /** Targets collected at once by this server: a fleet of 100 never opens 100 connections. */
  concurrency?: number;
  log?: (line: string) => void;
}

/**
 * Collects every configured target once per interval, shared by every app server through the
 * store: each due target is claimed with SKIP LOCKED and rescheduled in the same statement, so it
 * is collected once per interval whoever claims it.
 */
export function startCollector(opts: CollectorOptions): { stop(): Promise<void> } {
  const me = `${os.hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  const interval = opts.intervalMs ?? 60_000;
  const concurrency = opts.concurrency ?? DEFAULT_COLLECT_CONCURRENCY;
  const log = opts.log ?? ((l: string) => console.log(`[collector] ${l}`));
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const targets = await opts.targets();
        await opts.pool.query("INSERT INTO collector_schedule (target_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING", [
          targets.map((t) => t.id),
        ]);
        const { rows } = await opts.pool.query<{ targetId: string }>(
          `UPDATE collector_schedule SET next_run_at = now() + make_interval(secs => $2), locked_by = $1
            WHERE target_id IN (SELECT target_id FROM collector_schedule WHERE next_run_at <= now() AND target_id = ANY($4::text[]) ORDER BY next_run_at FOR UPDATE SKIP LOCKED LIMIT $3)
            RETURNING target_id AS "targetId"`,
          [me, interval / 1000, concurrency, targets.map((t) => t.id)],
        );
        await Promise.all(
          rows.map(async ({ targetId }) => {
            const target = targets.find((t) => t.id === targetId)!;
            try {
              const { nodeProblems } = await collectTarget(opts.pool, target, opts.retention);
              // The primary was collected; a replica left out makes the target's evidence incomplete, which its status says.
              if (nodeProblems.length) throw new Error(nodeProblems.map((p) => `replica ${p.node}: ${p.message}`).join("; "));
              await opts.pool.query("UPDATE collector_schedule SET last_ok_at = now() WHERE target_id = $1", [targetId]);
            } catch (err) {
              log(`${targetId}: ${(err as Error).message}`);
              await opts.pool
                .query("UPDATE collector_schedule SET last_error = $2, last_error_at = now() WHERE target_id = $1", [
                  targetId,
                  (err as Error).message,
                ])
                .catch(() => undefined);
            }
          }),
        );
        if (rows.length) await resolveFollowups(opts.pool);
        // A full batch means more may be due: a fleet is worked through back to back, not a batch a second.
        if (rows.length === concurrency) continue;
      } catch (err) {
        log(`cannot reach the store: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, Math.min(1000, interval)));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
