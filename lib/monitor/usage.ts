import type pg from "pg";
import { z } from "zod";
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
  const { rows } = await db.query<[number, string, number, number, number, boolean]>({
    name: "usage-series",
    text: `SELECT date_part('epoch', bucket_start)::int8, node, scans, tuples_fetched, seconds, reset
             FROM usage_delta
            WHERE target_id = $1 AND index_key = $2 AND resolution = $3 AND bucket_start >= now() - make_interval(hours => $4)
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

/**
 * Recomputes scans per minute per index of a target — latest interval, and averaged over 24 h
 * (hourly buckets), 7 d and 30 d (daily buckets, today included) — once, after each snapshot. Each
 * node's rate is taken over its own seconds (a replica collected for a day has no 30 days to spread
 * its scans over), and the index's rate is their sum.
 */
export async function refreshUsageRates(db: Pick<pg.Pool, "query"> | pg.ClientBase, targetId: string): Promise<void> {
  await db.query(
    `WITH latest AS (
       SELECT index_key, sum(rate) AS rate
         FROM (SELECT DISTINCT ON (node, index_key) node, index_key, scans / greatest(seconds, 1) * 60 AS rate
                 FROM usage_delta WHERE target_id = $1 AND resolution = 'raw' AND bucket_start > now() - interval '1 hour'
                ORDER BY node, index_key, bucket_start DESC) per_node
        GROUP BY index_key
     ), day AS (
       SELECT index_key, sum(d1) AS d1
         FROM (SELECT node, index_key, sum(scans) / nullif(sum(seconds), 0) * 60 AS d1
                 FROM usage_delta WHERE target_id = $1 AND resolution = '1h' AND bucket_start >= now() - interval '24 hours'
                GROUP BY node, index_key) per_node
        GROUP BY index_key
     ), days AS (
       SELECT index_key, sum(d7) AS d7, sum(d30) AS d30
         FROM (SELECT node, index_key,
                      sum(scans) FILTER (WHERE bucket_start >= date_trunc('day', now()) - interval '6 days')
                        / nullif(sum(seconds) FILTER (WHERE bucket_start >= date_trunc('day', now()) - interval '6 days'), 0) * 60 AS d7,
                      sum(scans) / nullif(sum(seconds), 0) * 60 AS d30
                 FROM usage_delta WHERE target_id = $1 AND resolution = '1d' AND bucket_start >= date_trunc('day', now()) - interval '29 days'
                GROUP BY node, index_key) per_node
        GROUP BY index_key
     )
     INSERT INTO usage_rate (target_id, index_key, per_min_now, per_min_24h, per_min_7d, per_min_30d, computed_at)
     SELECT $1, d.index_key, l.rate, y.d1, d.d7, d.d30, now()
       FROM days d LEFT JOIN day y USING (index_key) LEFT JOIN latest l USING (index_key)
     ON CONFLICT (target_id, index_key) DO UPDATE SET
       per_min_now = excluded.per_min_now, per_min_24h = excluded.per_min_24h, per_min_7d = excluded.per_min_7d,
       per_min_30d = excluded.per_min_30d, computed_at = excluded.computed_at`,
    [targetId],
  );
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
