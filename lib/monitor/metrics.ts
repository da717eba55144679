import { Gauge, Registry } from "prom-client";
import type pg from "pg";
import { collectorStatuses } from "./collector";

/**
 * Prometheus metrics read from the store at scrape time, so every app server reports the same
 * numbers however many there are: rollouts by state, builds in progress and their percent, jobs.
 */
export async function metricsText(db: Pick<pg.Pool, "query">): Promise<string> {
  const registry = new Registry();
  const rollouts = new Gauge({
    name: "indexdeck_rollouts",
    help: "Rollouts by state",
    labelNames: ["state", "target"],
    registers: [registry],
  });
  const building = new Gauge({
    name: "indexdeck_build_percent",
    help: "Percent done of index builds in progress",
    labelNames: ["rollout", "target", "index"],
    registers: [registry],
  });
  const jobs = new Gauge({
    name: "indexdeck_jobs",
    help: "Jobs in the queue by state",
    labelNames: ["state", "kind"],
    registers: [registry],
  });
  const stale = new Gauge({
    name: "indexdeck_jobs_stale",
    help: "Running jobs whose worker stopped heartbeating for over 15 s",
    registers: [registry],
  });
  const lag = new Gauge({
    name: "indexdeck_collector_lag_seconds",
    help: "Seconds since the last successful usage snapshot of a target",
    labelNames: ["target"],
    registers: [registry],
  });
  const failing = new Gauge({
    name: "indexdeck_collector_failing",
    help: "1 when the last collection of a target failed after its last success",
    labelNames: ["target"],
    registers: [registry],
  });
  const scans = new Gauge({
    name: "indexdeck_index_scans_per_minute",
    help: "Index scans per minute over the last collector interval",
    labelNames: ["target", "index"],
    registers: [registry],
  });
  const [byState, progress, queue, staleJobs, collector, rates] = await Promise.all([
    db.query<{ state: string; target: string; n: number }>(
      "SELECT state, target_id AS target, count(*)::int AS n FROM rollout GROUP BY 1, 2",
    ),
    db.query<{ rollout: number; target: string; index: string; percent: number }>(`
      SELECT DISTINCT ON (e.rollout_id, e.task_seq)
        e.rollout_id                   AS rollout,
        r.target_id                    AS target,
        coalesce(e.data->>'index', '') AS index,
        (e.data->>'percent')::float8   AS percent
      FROM rollout_event e
      JOIN rollout r ON r.id = e.rollout_id
      JOIN rollout_task t ON t.rollout_id = e.rollout_id AND t.seq = e.task_seq
      WHERE r.state = 'applying' AND e.kind = 'progress' AND t.status IN ('building', 'validating', 'waiting_for_lock')
      ORDER BY e.rollout_id, e.task_seq, e.id DESC`),
    db.query<{ state: string; kind: string; n: number }>(
      "SELECT state, kind, count(*)::int AS n FROM job WHERE state IN ('queued', 'running') GROUP BY 1, 2",
    ),
    db.query<{ n: number }>("SELECT count(*)::int AS n FROM job WHERE state = 'running' AND heartbeat_at < now() - interval '15 seconds'"),
    collectorStatuses(db),
    db.query<{ target: string; index: string; rate: number }>(`
      SELECT target_id AS target, index_key AS index, sum(rate)::float8 AS rate
        FROM (SELECT DISTINCT ON (target_id, node, index_key) target_id, index_key, scans / greatest(seconds, 1) * 60 AS rate
                FROM usage_delta WHERE resolution = 'raw' AND bucket_start > now() - interval '1 hour'
               ORDER BY target_id, node, index_key, bucket_start DESC) per_node
       GROUP BY target_id, index_key`),
  ]);
  for (const [target, c] of collector) {
    if (c.lastOkAt) lag.set({ target }, (Date.now() - c.lastOkAt.getTime()) / 1000);
    failing.set({ target }, c.failing ? 1 : 0);
  }
  for (const r of rates.rows) scans.set({ target: r.target, index: r.index }, r.rate);
  for (const r of byState.rows) rollouts.set({ state: r.state, target: r.target }, r.n);
  for (const p of progress.rows) building.set({ rollout: String(p.rollout), target: p.target, index: p.index }, p.percent);
  for (const j of queue.rows) jobs.set({ state: j.state, kind: j.kind }, j.n);
  stale.set(staleJobs.rows[0].n);
  return registry.metrics();
}
