import pg from "pg";
import { migrate } from "../lib/store/migrator";
import { refreshUsageRates, usageSeries, usageSummary } from "../lib/monitor/usage";
import { arg, benchServer, dropDatabase, percentile } from "./support";

/** Closed-loop load: `clients` concurrent callers, `requests` calls in all; latency of each call. */
async function load(requests: number, clients: number, call: (i: number) => Promise<unknown>): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next < requests) {
      const i = next++;
      const t = performance.now();
      await call(i);
      latencies.push(performance.now() - t);
    }
  }));
  return latencies.sort((a, b) => a - b);
}

/**
 * 1,000 indexes × 30 days of 5-minute data (with the hourly and daily rollups the collector keeps)
 * in the store; then one index's 30-day series and the Indexes table's rates of all 1,000 under
 * 8 concurrent callers, measured at the query layer the API and the page call. The rates are
 * computed by the collector once per snapshot; that cost is reported too.
 */
export async function run(args: string[]) {
  const indexes = arg(args, "indexes", 1000);
  const days = arg(args, "days", 30);
  const server = await benchServer();
  const admin = new pg.Client({ connectionString: server.url("postgres") });
  await admin.connect();
  await admin.query("DROP DATABASE IF EXISTS bench_usage WITH (FORCE)");
  await admin.query("CREATE DATABASE bench_usage");
  await admin.end();
  const pool = new pg.Pool({ connectionString: server.url("bench_usage"), max: 10 });
  pool.on("error", () => undefined);
  const c = await pool.connect();
  await migrate(c);
  const t0 = performance.now();
  for (const [resolution, seconds] of [["5m", 300], ["1h", 3600], ["1d", 86400]] as const) {
    await c.query(
      `INSERT INTO usage_delta (target_id, index_key, resolution, bucket_start, seconds, scans, tuples_read, tuples_fetched, blks_read, blks_hit)
       SELECT 'fleet', 'public.idx_' || i, $1, b, $2, (random() * 100)::int, 0, (random() * 500)::int, 0, 0
         FROM generate_series(1, $3) i,
              generate_series(date_trunc('day', now()) - make_interval(days => $4), now(), make_interval(secs => $2)) b`,
      [resolution, seconds, indexes, days],
    );
  }
  await c.query("INSERT INTO usage_delta (target_id, index_key, resolution, bucket_start, seconds, scans, tuples_read, tuples_fetched, blks_read, blks_hit) SELECT 'fleet', 'public.idx_' || i, 'raw', now() - interval '1 minute', 60, 5, 0, 5, 0, 0 FROM generate_series(1, $1) i", [indexes]);
  await c.query("ANALYZE usage_delta");
  const { rows: [{ n }] } = await c.query("SELECT count(*)::int AS n FROM usage_delta");
  c.release();
  const generateSeconds = (performance.now() - t0) / 1000;
  const refresh = await load(3, 1, () => refreshUsageRates(pool, "fleet"));
  const series = await load(400, 8, (i) => usageSeries(pool, "fleet", `public.idx_${1 + (i % indexes)}`, "30d"));
  const table = await load(100, 8, () => usageSummary(pool, "fleet"));
  const sample = await usageSummary(pool, "fleet");
  await pool.end();
  await dropDatabase(server, "bench_usage");
  await server.stop();
  const summary = (xs: number[]) => ({ p50: +percentile(xs, 50).toFixed(1), p95: +percentile(xs, 95).toFixed(1), max: +xs.at(-1)!.toFixed(1), requests: xs.length });
  console.log(JSON.stringify({
    benchmark: "usage", server: server.name, indexes, days, storeRows: n, generateSeconds: +generateSeconds.toFixed(1), concurrency: 8,
    indexSeries30dMs: summary(series), indexesTable7dMs: summary(table), indexesInTable: sample.size,
    collectorRateRefreshMs: refresh.map((x) => Math.round(x)),
    goal: { p95Ms: 100 }, pass: percentile(series, 95) < 100 && percentile(table, 95) < 100 && sample.size === indexes,
  }));
}
