import pg from "pg";
import { migrate } from "../lib/store/migrator";
import { refreshUsageRates, usageSeries, usageSummary } from "../lib/monitor/usage";
import { arg, benchServer, dropDatabase, emptyDatabase, generateUsage, load, percentile, verdict } from "./support";

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
  await emptyDatabase(server, "bench_usage");
  const pool = new pg.Pool({ connectionString: server.url("bench_usage"), max: 10 });
  pool.on("error", () => undefined);
  const c = await pool.connect();
  await migrate(c);
  const t0 = performance.now();
  await generateUsage(c, "fleet", "public.idx_", indexes, days);
  const {
    rows: [{ n }],
  } = await c.query("SELECT count(*)::int AS n FROM usage_delta");
  c.release();
  const generateSeconds = (performance.now() - t0) / 1000;
  const refresh = await load(3, 1, () => refreshUsageRates(pool, "fleet"));
  const series = await load(400, 8, (i) => usageSeries(pool, "fleet", `public.idx_${1 + (i % indexes)}`, "30d"));
  const table = await load(100, 8, () => usageSummary(pool, "fleet"));
  const sample = await usageSummary(pool, "fleet");
  await pool.end();
  await dropDatabase(server, "bench_usage");
  await server.stop();
  const summary = (xs: number[]) => ({
    p50: +percentile(xs, 50).toFixed(1),
    p95: +percentile(xs, 95).toFixed(1),
    max: +xs.at(-1)!.toFixed(1),
    requests: xs.length,
  });
  console.log(
    JSON.stringify({
      benchmark: "usage",
      server: server.name,
      indexes,
      days,
      storeRows: n,
      generateSeconds: +generateSeconds.toFixed(1),
      concurrency: 8,
      indexSeries30dMs: summary(series),
      indexesTable7dMs: summary(table),
      indexesInTable: sample.size,
      collectorRateRefreshMs: refresh.map((x) => Math.round(x)),
      ...verdict([
        { figure: "one index's 30-day series p95", value: percentile(series, 95), op: "<=", goal: 100, unit: "ms" },
        { figure: "the Indexes table's rates p95", value: percentile(table, 95), op: "<=", goal: 100, unit: "ms" },
        { figure: "indexes with rates", value: sample.size, op: "==", goal: indexes },
      ]),
    }),
  );
}
