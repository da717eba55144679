import { availableParallelism } from "node:os";
import pg from "pg";
import { refreshUsageRates } from "../lib/monitor/usage";
import { arg, generateUsage, load, percentile, signIn, startBenchApp } from "./support";

type Summary = { p50: number; p95: number; max: number; requests: number };
type Curve = Record<string, Record<"usageApi30dMs" | "indexesPageMs" | "helpPageMs", Summary>>;

/**
 * The usage API and the Indexes page over HTTP, through the built app and its session checks, at 1,
 * 2, 4 and 8 closed-loop clients on loopback: 1,000 real (small) indexes on the staging target, so
 * the page lists them all, × 30 days of generated usage in the app's store. Measured with one server
 * worker and with the default of one per core, one after the other in the same run.
 */
export async function run(args: string[]) {
  const indexes = arg(args, "indexes", 1000);
  const days = arg(args, "days", 30);
  const port = arg(args, "port", 3301);
  const cores = availableParallelism();
  const curves: Record<string, Curve> = {};
  let generateSeconds = 0;
  // The data is generated once, into the store the app keeps in its data directory across restarts.
  const generate = async (app: BenchApp) => {
    const { port: pgPort, password } = app.embedded;
    const store = new pg.Client({ connectionString: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${pgPort}/indexdeck` });
    await store.connect();
    const t0 = performance.now();
    await benchIndexes(`postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${pgPort}/chefcloud_staging`, indexes);
    await generateUsage(store, "chefcloud_staging", "public.bench_idx_", indexes, days);
    await refreshUsageRates(store, "chefcloud_staging");
    // Measured in a steady state, not while autovacuum works through the rows just generated.
    await store.query("VACUUM (ANALYZE) usage_delta, usage_rate");
    generateSeconds = (performance.now() - t0) / 1000;
    await store.end();
  };
  const configs = [...new Set([1, cores])];
  for (const workers of configs) {
    curves[label(workers, "worker")] = await measure(port, workers, workers === configs[0] ? generate : null, indexes);
  }
  // The mark: one client per core on the default worker count. Past that, closed-loop clients
  // measure the queue on cores shared by the app, PostgreSQL and the load loop: /help, which reads
  // nothing, is measured beside the two to show where that floor is.
  const mark = label(cores, "client");
  const atMark = curves[label(cores, "worker")][mark];
  console.log(JSON.stringify({
    benchmark: "usage-http", indexes, days, cores, generateSeconds: +generateSeconds.toFixed(1), curves,
    goal: { p95Ms: 100, at: `${mark} (one per core), ${label(cores, "worker")}` },
    pass: atMark !== undefined && atMark.usageApi30dMs.p95 < 100 && atMark.indexesPageMs.p95 < 100,
  }));
}

type BenchApp = Awaited<ReturnType<typeof startBenchApp>>;
const label = (n: number, what: string) => `${n} ${what}${n > 1 ? "s" : ""}`;

async function measure(port: number, workers: number, prepare: ((app: BenchApp) => Promise<void>) | null, indexes: number): Promise<Curve> {
  // The collector at its default interval (60 s), not the demo's 10 s meant for watching charts fill.
  const app = await startBenchApp(port, { INDEXDECK_COLLECT_INTERVAL_MS: "60000", INDEXDECK_WORKERS: String(workers) });
  try {
    await prepare?.(app);
    const base = `http://localhost:${port}`;
    const cookie = await signIn(base, "engineer", app.logins.engineer);
    const get = async (path: string) => {
      const res = await fetch(`${base}${path}`, { headers: { cookie } });
      if (!res.ok) throw new Error(`${path}: ${res.status}`);
      await res.arrayBuffer();
    };
    // Warm every worker: each compiles its routes and fills its caches on first use.
    await load(8 * workers, 2 * workers, () => get("/indexes?target=chefcloud_staging"));
    await load(8 * workers, 2 * workers, () => get("/help"));
    const summary = (xs: number[]): Summary => ({ p50: +percentile(xs, 50).toFixed(1), p95: +percentile(xs, 95).toFixed(1), max: +xs.at(-1)!.toFixed(1), requests: xs.length });
    const curve: Curve = {};
    for (const clients of [1, 2, 4, 8]) {
      const api = await load(50 * clients, clients, (i) => get(`/api/usage?target=chefcloud_staging&index=public.bench_idx_${1 + (i % indexes)}&range=30d`));
      const page = await load(Math.max(40, 20 * clients), clients, () => get("/indexes?target=chefcloud_staging"));
      const help = await load(Math.max(40, 20 * clients), clients, () => get("/help"));
      curve[label(clients, "client")] = { usageApi30dMs: summary(api), indexesPageMs: summary(page), helpPageMs: summary(help) };
    }
    return curve;
  } finally {
    await app.stop();
  }
}

/** `count` indexes named bench_idx_N on a small table of the target, made once and kept. */
async function benchIndexes(url: string, count: number): Promise<void> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    await db.query("CREATE TABLE IF NOT EXISTS bench_usage (a int, b int, c int)");
    for (let i = 1; i <= count; i++) {
      // Distinct predicates, so the reports see 1,000 different indexes rather than 1,000 duplicates.
      await db.query(`CREATE INDEX IF NOT EXISTS bench_idx_${i} ON bench_usage (${["a", "b", "c"][i % 3]}) WHERE c = ${i}`);
    }
  } finally {
    await db.end();
  }
}
