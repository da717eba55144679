import pg from "pg";
import { describe, expect, it } from "vitest";
import { createRollout } from "../rollout/rollouts";
import { DBA, testTargets, uploadChangeSet } from "../rollout/testing";
import { freshDatabase, pgServers } from "../testing/db";
import { metricsText } from "./metrics";
import { fixedTargets } from "../targets/source";

describe.each(pgServers())("metrics on $name PostgreSQL", (server) => {
  it("reports rollouts by state and the progress of builds in flight in Prometheus text format", async () => {
    const pool = new pg.Pool({ connectionString: await freshDatabase(server) });
    const targets = testTargets("postgres://x@127.0.0.1:1/x");
    const r = await createRollout(
      pool,
      fixedTargets(targets),
      {
        changesetId: await uploadChangeSet(pool, "m.sql", "CREATE INDEX CONCURRENTLY IF NOT EXISTS i1 ON orders (id);\n"),
        targetId: "stage",
      },
      DBA,
    );
    await pool.query("UPDATE rollout SET state = 'applying' WHERE id = $1", [r.id]);
    await pool.query("UPDATE rollout_task SET status = 'building' WHERE rollout_id = $1", [r.id]);
    await pool.query(
      'INSERT INTO rollout_event (rollout_id, kind, task_seq, data) VALUES ($1, \'progress\', 0, \'{"index": "i1", "percent": 12.5}\'), ($1, \'progress\', 0, \'{"index": "i1", "percent": 40}\')',
      [r.id],
    );
    const text = await metricsText(pool);
    expect(text).toContain('indexdeck_rollouts{state="applying",target="stage"} 1');
    expect(text).toContain(`indexdeck_build_percent{rollout="${r.id}",target="stage",index="i1"} 40`);
    expect(text).toContain("# TYPE indexdeck_jobs gauge");
    await pool.end();
  });
});

describe.each(pgServers())("collector metrics on $name PostgreSQL", (server) => {
  it("reports collector lag, failing targets and each index's latest scans per minute", async () => {
    const pool = new pg.Pool({ connectionString: await freshDatabase(server) });
    await pool.query(
      "INSERT INTO collector_schedule (target_id, last_ok_at, last_error, last_error_at) VALUES ('a', now() - interval '90 seconds', NULL, NULL), ('b', now() - interval '1 hour', 'ECONNREFUSED', now())",
    );
    const text = await metricsText(pool);
    expect(text).toMatch(/indexdeck_collector_lag_seconds\{target="a"\} (9\d|1\d\d)(\.\d+)?/);
    expect(text).toContain('indexdeck_collector_failing{target="a"} 0');
    expect(text).toContain('indexdeck_collector_failing{target="b"} 1');
    // Scans per minute of each index over its latest raw interval: 30 scans in 60 s, then 10 in 120 s.
    await pool.query(`INSERT INTO usage_delta (target_id, index_key, resolution, bucket_start, seconds, scans, tuples_read, tuples_fetched, blks_read, blks_hit)
      VALUES ('a', 'public.i', 'raw', now() - interval '3 minutes', 60, 30, 0, 0, 0, 0), ('a', 'public.i', 'raw', now() - interval '2 minutes', 120, 10, 0, 0, 0, 0),
             ('a', 'public.old', 'raw', now() - interval '2 hours', 60, 99, 0, 0, 0, 0)`);
    const withScans = await metricsText(pool);
    expect(withScans).toContain('indexdeck_index_scans_per_minute{target="a",index="public.i"} 5');
    expect(withScans).not.toContain('index="public.old"');
    // A replica's scans of the same index add to the primary's: each node's latest interval, summed.
    await pool.query(`INSERT INTO usage_delta (target_id, node, index_key, resolution, bucket_start, seconds, scans, tuples_read, tuples_fetched, blks_read, blks_hit)
      VALUES ('a', 'a_r1', 'public.i', 'raw', now() - interval '4 minutes', 60, 12, 0, 0, 0, 0)`);
    expect(await metricsText(pool)).toContain('indexdeck_index_scans_per_minute{target="a",index="public.i"} 17');
    await pool.end();
  });
});
