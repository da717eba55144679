import { randomBytes } from "node:crypto";
import os from "node:os";
import type pg from "pg";
import { withTransaction } from "../store/pool";
import type { TargetConfig } from "../targets/config";
import { indexCounters, type CounterRow } from "../targets/counters";
import { readNodes, type NodeProblem, type NodeRead } from "../targets/nodes";
import type { NodeClock } from "../targets/usage";
import { counterDelta, type Previous } from "./deltas";
import { resolveFollowups } from "./followups";
import { refreshUsageRates } from "./usage";
import { announce } from "../webhooks/notify";

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

const BUCKETS: Array<["5m" | "1h" | "1d", string]> = [
  ["5m", "300"],
  ["1h", "3600"],
  ["1d", "86400"],
];

/**
 * One snapshot of a target: a single query on each of its nodes (the primary and every replica, at
 * once), then, in one store transaction, each node's deltas since its last snapshot (reset-safe, on the
 * node's own clock), their 5-minute and hourly rollups, and retention. A replica that can't be read, or
 * isn't a replica of this primary, is left out and named in `nodeProblems`; the primary must answer.
 */
export async function collectTarget(
  pool: pg.Pool,
  target: TargetConfig,
  retention = DEFAULT_RETENTION,
): Promise<{ indexes: number; queryMs: number; resets: number; nodeProblems: Array<{ node: string } & NodeProblem> }> {
  const started = performance.now();
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
  const queryMs = performance.now() - started;
  const takenAt = new Date();
  let resets = 0;
  await withTransaction(pool, async (tx) => {
    for (const n of nodes) if (n.data) resets += await storeNodeSnapshot(tx, target.id, n.node.id, n.clock, n.data, takenAt, queryMs);
    await tx.query(
      `DELETE FROM usage_delta
        WHERE target_id = $1
          AND ((resolution = 'raw' AND bucket_start < now() - make_interval(hours => $2))
            OR (resolution = '5m' AND bucket_start < now() - make_interval(days => $3))
            OR (resolution IN ('1h', '1d') AND bucket_start < now() - make_interval(days => $4)))`,
      [target.id, retention.rawHours, retention.fiveMinuteDays, retention.hourlyDays],
    );
    await tx.query("DELETE FROM usage_snapshot WHERE target_id = $1 AND taken_at < now() - make_interval(hours => $2)", [
      target.id,
      retention.rawHours,
    ]);
    await refreshUsageRates(tx, target.id);
    // Validity is the catalog's, which the primary's snapshot holds (a replica's is a copy of it).
    await announceNewInvalid(
      tx,
      target.id,
      nodes[0].data!.filter((r) => !r.valid).map((r) => r.indexKey),
    );
  });
  const nodeProblems = nodes.flatMap((n) => (n.problem ? [{ node: n.node.id, ...n.problem }] : []));
  return { indexes: nodes[0].data!.length, queryMs, resets, nodeProblems };
}

/** One node's snapshot and its deltas since that node's last one; returns how many indexes' counters were reset. */
async function storeNodeSnapshot(
  tx: pg.ClientBase,
  targetId: string,
  node: string,
  clock: NodeClock,
  rows: CounterRow[],
  takenAt: Date,
  queryMs: number,
): Promise<number> {
  let resets = 0;
  const { rows: last } = await tx.query<Previous & { indexKey: string; takenAt: Date }>(
    `SELECT index_key AS "indexKey", taken_at AS "takenAt", stats_reset AS "statsReset", postmaster_start AS "postmasterStart",
            scans, tuples_read AS "tuplesRead", tuples_fetched AS "tuplesFetched", blks_read AS "blksRead", blks_hit AS "blksHit"
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
  await tx.query(
    "INSERT INTO usage_snapshot (target_id, node, taken_at, stats_reset, postmaster_start, indexes, query_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    [targetId, node, takenAt, clock.statsReset, clock.postmasterStart, rows.length, queryMs],
  );
  // Deltas are computed here and written in a few set-based statements, so a target with
  // 10,000 indexes costs the store a handful of round trips, not tens of thousands.
  const deltas: Array<{ key: string; since: Date; seconds: number; d: ReturnType<typeof counterDelta> }> = [];
  for (const cur of rows) {
    const prev = prevByKey.get(cur.indexKey);
    // An index that appeared after the target's first snapshot was created since: all its activity is new.
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
    const since = prev?.takenAt ?? previous;
    if (since) deltas.push({ key: cur.indexKey, since, seconds: (takenAt.getTime() - since.getTime()) / 1000, d });
  }
  await tx.query(
    `INSERT INTO usage_last (target_id, node, index_key, taken_at, stats_reset, postmaster_start, scans, tuples_read, tuples_fetched, blks_read, blks_hit, bytes, valid)
     SELECT $1, $13, k, $2, sr, ps, sc, tr, tf, br, bh, by, v
       FROM unnest($3::text[], $4::timestamptz[], $5::timestamptz[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::boolean[])
         AS u(k, sr, ps, sc, tr, tf, br, bh, by, v)
     ON CONFLICT (target_id, node, index_key) DO UPDATE SET
       taken_at = excluded.taken_at, stats_reset = excluded.stats_reset, postmaster_start = excluded.postmaster_start,
       scans = excluded.scans, tuples_read = excluded.tuples_read, tuples_fetched = excluded.tuples_fetched,
       blks_read = excluded.blks_read, blks_hit = excluded.blks_hit, bytes = excluded.bytes, valid = excluded.valid`,
    [
      targetId,
      takenAt,
      rows.map((r) => r.indexKey),
      rows.map((r) => r.statsReset),
      rows.map((r) => r.postmasterStart),
      rows.map((r) => r.scans),
      rows.map((r) => r.tuplesRead),
      rows.map((r) => r.tuplesFetched),
      rows.map((r) => r.blksRead),
      rows.map((r) => r.blksHit),
      rows.map((r) => r.bytes),
      rows.map((r) => r.valid),
      node,
    ],
  );
  const columns = [
    deltas.map((x) => x.key),
    deltas.map((x) => x.since),
    deltas.map((x) => x.seconds),
    deltas.map((x) => x.d.scans),
    deltas.map((x) => x.d.tuplesRead),
    deltas.map((x) => x.d.tuplesFetched),
    deltas.map((x) => x.d.blksRead),
    deltas.map((x) => x.d.blksHit),
    deltas.map((x) => x.d.reset),
  ];
  const UNNEST = `unnest($2::text[], $3::timestamptz[], $4::float8[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::boolean[]) AS u(k, since, secs, sc, tr, tf, br, bh, rs)`;
  await tx.query(
    `INSERT INTO usage_delta (target_id, node, index_key, resolution, bucket_start, seconds, scans, tuples_read, tuples_fetched, blks_read, blks_hit, reset)
     SELECT $1, $11, k, 'raw', since, secs, sc, tr, tf, br, bh, rs FROM ${UNNEST}
     ON CONFLICT DO NOTHING`,
    [targetId, ...columns, node],
  );
  for (const [resolution, width] of BUCKETS) {
    await tx.query(
      `INSERT INTO usage_delta (target_id, node, index_key, resolution, bucket_start, seconds, scans, tuples_read, tuples_fetched, blks_read, blks_hit, reset)
       SELECT $1, $13, k, $11, to_timestamp(floor(extract(epoch FROM since) / $12) * $12), secs, sc, tr, tf, br, bh, rs FROM ${UNNEST}
       ON CONFLICT (target_id, node, index_key, resolution, bucket_start) DO UPDATE SET
         seconds = usage_delta.seconds + excluded.seconds, scans = usage_delta.scans + excluded.scans,
         tuples_read = usage_delta.tuples_read + excluded.tuples_read, tuples_fetched = usage_delta.tuples_fetched + excluded.tuples_fetched,
         blks_read = usage_delta.blks_read + excluded.blks_read, blks_hit = usage_delta.blks_hit + excluded.blks_hit,
         reset = usage_delta.reset OR excluded.reset`,
      [targetId, ...columns, resolution, Number(width), node],
    );
  }
  return resets;
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

export interface CollectorOptions {
  pool: pg.Pool;
  targets: () => TargetConfig[];
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
  const concurrency = opts.concurrency ?? 4;
  const log = opts.log ?? ((l: string) => console.log(`[collector] ${l}`));
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const targets = opts.targets();
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
