import type pg from "pg";
import * as z from "zod";
import { PRIMARY_NODE } from "../targets/config";

export const RANGES = {
  "24h": { hours: 24, resolution: "5m" },
  "7d": { hours: 168, resolution: "1h" },
  "30d": { hours: 720, resolution: "1h" },
} as const;
export const UsageQuery = z.object({
  target: z.string().min(1).max(63),
  index: z.string().regex(/^[^.\s]{1,63}\.[^\s]{1,63}$/, "schema.index"),
  range: z.enum(["24h", "7d", "30d"]).default("24h"),
});

/**
 * A usage series in columns (index i of each array is one bucket): the 30-day series is a quarter of
 * the bytes it is as one object per point, which the app serializes and compresses on every view.
 */
export interface UsageSeries {
  /** Bucket starts, seconds since the epoch. */
  t: number[];
  /** Over every node: each node's rate over its own seconds in the bucket, added up. */
  scansPerMinute: number[];
  tuplesFetchedPerMinute: number[];
  /** Scans per minute on each node (the primary first), aligned with t; null where the node has no data in a bucket. */
  nodes: Array<{ node: string; scansPerMinute: Array<number | null> }>;
  /** Buckets in which a node's counters were reset, and which node: each node resets on its own. */
  resets: Array<{ t: number; node: string }>;
  /** Buckets after which the collector could not reach a node for longer than a bucket. */
  gaps: number[];
}

export interface RolloutMarker {
  /** Seconds since the epoch. */
  t: number;
  rolloutId: number;
  kind: "apply started" | "verified" | "rolled back";
}

/** Per minute, to three decimals, over a bucket of `seconds` (at least one). */
const perMinute = (count: number, seconds: number) => Math.round((count / Math.max(seconds, 1)) * 60_000) / 1000;
const byNode = (a: string, b: string) => Number(b === PRIMARY_NODE) - Number(a === PRIMARY_NODE) || (a < b ? -1 : a > b ? 1 : 0);

/**
 * Scans and tuples fetched per minute over a range, from the rollup that fits it, in total and per node,
 * with reset marks. The rows come back as stored and the rates are worked out here: rounding 1,440
 * numerics and extracting 720 epochs took the server longer than finding the rows.
 */
export async function usageSeries(
  db: Pick<pg.Pool, "query">,
  targetId: string,
  indexKey: string,
  range: keyof typeof RANGES,
): Promise<UsageSeries> {
  const { hours, resolution } = RANGES[range];
  // `resolution <> 'raw'` is the series index's predicate: spelled out, a prepared plan can use it
  // whatever $3 turns out to be.
  const { rows } = await db.query<[number, string, number, number, number, boolean]>({
    name: "usage-series",
    text: `SELECT date_part('epoch', bucket_start)::int8, node, scans, tuples_fetched, seconds, reset
             FROM usage_delta
            WHERE target_id = $1 AND index_key = $2 AND resolution = $3 AND bucket_start >= now() - make_interval(hours => $4)
              AND resolution <> 'raw'
            ORDER BY bucket_start`,
    values: [targetId, indexKey, resolution, hours],
    rowMode: "array",
  });
  const bucketSeconds = resolution === "5m" ? 300 : 3600;
  const series: UsageSeries = { t: [], scansPerMinute: [], tuplesFetchedPerMinute: [], nodes: [], resets: [], gaps: [] };
  const nodes = [...new Set(rows.map((r) => r[1]))].sort(byNode);
  const perNode = new Map(nodes.map((node) => [node, [] as Array<number | null>]));
  for (const [t, node, scans, fetched, seconds, reset] of rows) {
    let i = series.t.length - 1;
    if (series.t[i] !== t) {
      i = series.t.push(t) - 1;
      series.scansPerMinute.push(0);
      series.tuplesFetchedPerMinute.push(0);
      for (const list of perNode.values()) list.push(null);
    }
    const rate = perMinute(scans, seconds);
    series.scansPerMinute[i] = Math.round((series.scansPerMinute[i] + rate) * 1000) / 1000;
    series.tuplesFetchedPerMinute[i] = Math.round((series.tuplesFetchedPerMinute[i] + perMinute(fetched, seconds)) * 1000) / 1000;
    perNode.get(node)![i] = rate;
    if (reset) series.resets.push({ t, node });
    if (seconds > 1.5 * bucketSeconds && series.gaps.at(-1) !== t) series.gaps.push(t);
  }
  series.nodes = nodes.map((node) => ({ node, scansPerMinute: perNode.get(node)! }));
  return series;
}

/** When rollouts that built or dropped this index started applying, were verified or rolled back. */
export async function rolloutMarkers(
  db: Pick<pg.Pool, "query">,
  targetId: string,
  indexName: string,
  hours: number,
): Promise<RolloutMarker[]> {
  const { rows } = await db.query<RolloutMarker>({
    name: "usage-rollout-markers",
    text: `SELECT
       extract(epoch FROM e.at)::int8 AS t,
       e.rollout_id AS "rolloutId",
       CASE
         WHEN e.kind = 'phase_start' THEN 'apply started'
         WHEN e.kind = 'verify_done' THEN 'verified'
         ELSE 'rolled back'
       END AS kind
     FROM rollout_event e
     JOIN rollout r ON r.id = e.rollout_id
    WHERE r.target_id = $1
      AND EXISTS (SELECT 1 FROM rollout_task t WHERE t.rollout_id = r.id AND t.index_name = $2)
      AND e.at >= now() - make_interval(hours => $3)
      AND ((e.kind = 'phase_start' AND e.data->>'phase' = 'apply') OR (e.kind = 'verify_done' AND (e.data->>'ok')::boolean) OR (e.kind = 'rollback_done' AND (e.data->>'ok')::boolean))
    ORDER BY e.at`,
    values: [targetId, indexName, hours],
  });
  return rows;
}

export interface UsageSummary {
  indexKey: string;
  perMinuteNow: number | null;
  perMinute24h: number | null;
  perMinute7d: number | null;
  perMinute30d: number | null;
}

// The windows' anchors: the 24-hour window holds the hourly buckets from 23 hours before the current
// hour (aligned as the collector aligns its buckets), the 7- and 30-day windows the daily buckets from
// 6 and 29 days before today. Within one hour and one day the set of buckets in each window is fixed.
const HOUR_OF = "to_timestamp(floor(extract(epoch FROM now()) / 3600) * 3600)";
const DAY_OF = "date_trunc('day', now())";

/**
 * Recomputes scans per minute per index of a target — latest interval, and averaged over 24 h
 * (hourly buckets), 7 d and 30 d (daily buckets, today included) — from its buckets. Each node's rate
 * is taken over its own seconds (a replica collected for a day has no 30 days to spread its scans
 * over), and the index's rate is their sum. Where the primary alone has buckets in the windows, the
 * sums behind its rates are kept with the hour and day they are anchored to, so `addToUsageRates` can
 * carry them on; an index with a replica's buckets keeps none (a sum of rates is not one sum of scans
 * over one of seconds), so it is recomputed with every snapshot.
 * The windows are one pass over the target's buckets grouped by node and index, and the latest
 * interval one pass over its last hour of raw rows: joining the three as separate aggregates
 * let the planner, on a freshly written table it estimated at one row each, nest-loop them,
 * 10,000 × 10,000 comparisons, 20–35 s a snapshot. The raw rows are in time order only (migration
 * 027), so the latest of each index is found by sorting that hour, not by a probe per index.
 */
export async function refreshUsageRates(db: Pick<pg.Pool, "query"> | pg.ClientBase, targetId: string): Promise<void> {
  await db.query({
    name: "usage-refresh-rates",
    text: `WITH buckets AS (
       SELECT node, index_key, resolution, bucket_start, seconds, scans
         FROM usage_delta WHERE target_id = $1 AND resolution = '1h' AND bucket_start >= ${HOUR_OF} - interval '23 hours'
       UNION ALL
       SELECT node, index_key, resolution, bucket_start, seconds, scans
         FROM usage_delta WHERE target_id = $1 AND resolution = '1d' AND bucket_start >= ${DAY_OF} - interval '29 days'
     ), per_node AS (
       SELECT node, index_key,
              count(*) FILTER (WHERE resolution = '1d') AS days,
              sum(scans) FILTER (WHERE resolution = '1h') AS scans_24h,
              sum(seconds) FILTER (WHERE resolution = '1h') AS seconds_24h,
              sum(scans) FILTER (WHERE resolution = '1d' AND bucket_start >= ${DAY_OF} - interval '6 days') AS scans_7d,
              sum(seconds) FILTER (WHERE resolution = '1d' AND bucket_start >= ${DAY_OF} - interval '6 days') AS seconds_7d,
              sum(scans) FILTER (WHERE resolution = '1d') AS scans_30d,
              sum(seconds) FILTER (WHERE resolution = '1d') AS seconds_30d
         FROM buckets
        GROUP BY node, index_key
     ), latest AS (
       SELECT DISTINCT ON (node, index_key) node, index_key, scans / greatest(seconds, 1) * 60 AS rate
         FROM usage_delta
        WHERE target_id = $1 AND resolution = 'raw' AND bucket_start > now() - interval '1 hour'
        ORDER BY node, index_key, bucket_start DESC
     ), windows AS (
       SELECT p.index_key,
              bool_and(p.node = $2) AS primary_alone,
              sum(latest.rate) AS per_min_now,
              sum(p.scans_24h / nullif(p.seconds_24h, 0) * 60) AS per_min_24h,
              sum(p.scans_7d / nullif(p.seconds_7d, 0) * 60) AS per_min_7d,
              sum(p.scans_30d / nullif(p.seconds_30d, 0) * 60) AS per_min_30d,
              sum(p.scans_24h) AS scans_24h, sum(p.seconds_24h) AS seconds_24h, sum(p.scans_7d) AS scans_7d,
              sum(p.seconds_7d) AS seconds_7d, sum(p.scans_30d) AS scans_30d, sum(p.seconds_30d) AS seconds_30d
         FROM per_node p
         LEFT JOIN latest ON latest.node = p.node AND latest.index_key = p.index_key
        GROUP BY p.index_key
       HAVING sum(p.days) > 0
     )
     INSERT INTO usage_rate (target_id, index_key, per_min_now, per_min_24h, per_min_7d, per_min_30d, computed_at,
                             hour_of, day_of, scans_24h, seconds_24h, scans_7d, seconds_7d, scans_30d, seconds_30d)
     SELECT $1, w.index_key, w.per_min_now, w.per_min_24h, w.per_min_7d, w.per_min_30d, now(),
            kept.hour_of, kept.day_of, kept.scans_24h, kept.seconds_24h, kept.scans_7d, kept.seconds_7d, kept.scans_30d, kept.seconds_30d
       FROM windows w
       LEFT JOIN LATERAL (
         SELECT ${HOUR_OF} AS hour_of, ${DAY_OF} AS day_of, w.scans_24h, w.seconds_24h, w.scans_7d, w.seconds_7d, w.scans_30d, w.seconds_30d
          WHERE w.primary_alone
       ) kept ON true
     ON CONFLICT (target_id, index_key) DO UPDATE SET
       per_min_now = excluded.per_min_now, per_min_24h = excluded.per_min_24h, per_min_7d = excluded.per_min_7d,
       per_min_30d = excluded.per_min_30d, computed_at = excluded.computed_at, hour_of = excluded.hour_of, day_of = excluded.day_of,
       scans_24h = excluded.scans_24h, seconds_24h = excluded.seconds_24h, scans_7d = excluded.scans_7d,
       seconds_7d = excluded.seconds_7d, scans_30d = excluded.scans_30d, seconds_30d = excluded.seconds_30d`,
    values: [targetId, PRIMARY_NODE],
  });
}

/** One snapshot's deltas of a target's node, a column per field (index i of each array is one index). */
export interface SnapshotDeltas {
  keys: string[];
  since: Date[];
  seconds: number[];
  scans: number[];
}

/**
 * Adds one snapshot's deltas of a target with no replicas (already written to their buckets) to the
 * stored sums behind each index's rates, and the latest interval's rate, instead of reading the
 * windows' buckets again.
 * Exact while nothing but the collector writes hourly and daily buckets and retention keeps more
 * than the windows. Returns false, having changed what it could, when any index lacks sums anchored
 * to the current hour and day (a new index, a new hour or day, sums from before they were kept): the
 * caller then recomputes them all with `refreshUsageRates`, which sees the deltas in the buckets.
 */
export async function addToUsageRates(db: Pick<pg.Pool, "query"> | pg.ClientBase, targetId: string, d: SnapshotDeltas): Promise<boolean> {
  const { rowCount } = await db.query({
    name: "usage-add-to-rates",
    // One pass over the rows: the sums' anchors are required to be the current hour and day, so each
    // delta's share of a window is known before the row is read, and the table is joined once.
    text: `WITH u AS (
       SELECT k,
              CASE WHEN since > now() - interval '1 hour' THEN sc / greatest(secs, 1) * 60 END AS rate_now,
              CASE WHEN hour_bucket >= ${HOUR_OF} - interval '23 hours' THEN sc ELSE 0 END AS scans_24h,
              CASE WHEN hour_bucket >= ${HOUR_OF} - interval '23 hours' THEN secs ELSE 0 END AS seconds_24h,
              CASE WHEN day_bucket >= ${DAY_OF} - interval '6 days' THEN sc ELSE 0 END AS scans_7d,
              CASE WHEN day_bucket >= ${DAY_OF} - interval '6 days' THEN secs ELSE 0 END AS seconds_7d,
              CASE WHEN day_bucket >= ${DAY_OF} - interval '29 days' THEN sc ELSE 0 END AS scans_30d,
              CASE WHEN day_bucket >= ${DAY_OF} - interval '29 days' THEN secs ELSE 0 END AS seconds_30d
         FROM unnest($2::text[], $3::timestamptz[], $4::float8[], $5::bigint[]) AS d(k, since, secs, sc),
              LATERAL (SELECT to_timestamp(floor(extract(epoch FROM since) / 3600) * 3600) AS hour_bucket,
                              to_timestamp(floor(extract(epoch FROM since) / 86400) * 86400) AS day_bucket) b
     )
     UPDATE usage_rate r SET
       per_min_now = u.rate_now,
       per_min_24h = (coalesce(r.scans_24h, 0) + u.scans_24h) / nullif(coalesce(r.seconds_24h, 0) + u.seconds_24h, 0) * 60,
       per_min_7d = (coalesce(r.scans_7d, 0) + u.scans_7d) / nullif(coalesce(r.seconds_7d, 0) + u.seconds_7d, 0) * 60,
       per_min_30d = (coalesce(r.scans_30d, 0) + u.scans_30d) / nullif(coalesce(r.seconds_30d, 0) + u.seconds_30d, 0) * 60,
       computed_at = now(),
       scans_24h = coalesce(r.scans_24h, 0) + u.scans_24h, seconds_24h = coalesce(r.seconds_24h, 0) + u.seconds_24h,
       scans_7d = coalesce(r.scans_7d, 0) + u.scans_7d, seconds_7d = coalesce(r.seconds_7d, 0) + u.seconds_7d,
       scans_30d = coalesce(r.scans_30d, 0) + u.scans_30d, seconds_30d = coalesce(r.seconds_30d, 0) + u.seconds_30d
       FROM u
      WHERE r.target_id = $1 AND r.index_key = u.k AND r.hour_of = ${HOUR_OF} AND r.day_of = ${DAY_OF}`,
    values: [targetId, d.keys, d.since, d.seconds, d.scans],
  });
  return rowCount === d.keys.length;
}

/** The Indexes page's rates: one stored row per index, computed by the collector. */
export async function usageSummary(db: Pick<pg.Pool, "query">, targetId: string): Promise<Map<string, UsageSummary>> {
  const { rows } = await db.query<UsageSummary>(
    `SELECT
       index_key   AS "indexKey",
       per_min_now AS "perMinuteNow",
       per_min_24h AS "perMinute24h",
       per_min_7d  AS "perMinute7d",
       per_min_30d AS "perMinute30d"
     FROM usage_rate
    WHERE target_id = $1`,
    [targetId],
  );
  return new Map(rows.map((r) => [r.indexKey, r]));
}
