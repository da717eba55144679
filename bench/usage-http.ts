import { availableParallelism } from "node:os";
import pg from "pg";
import { refreshUsageRates } from "../lib/monitor/usage";
import { arg, generateUsage, httpGetter, load, percentile, signIn, startBenchApp, treeCpuMs, verdict } from "./support";

/** Latency of each call, and the CPU time spent per call by the app's processes, by PostgreSQL and by this load loop. */
type Summary = {
  p50: number;
  p95: number;
  max: number;
  requests: number;
  perSecond: number;
  cpuMsPerRequest: { app: number; postgres: number; loadLoop: number };
};
type Point = Record<"usageApi30dMs" | "indexesPageMs" | "helpPageMs", Summary> & { clients: number };
type Curve = Record<string, Point>;

/**
 * The usage API and the Indexes page over HTTP, through the built app and its session checks, at 1,
 * 2, 4 … up to eight closed-loop clients per core on loopback: 1,000 real (small) indexes on the
 * staging target, so the page lists them all, × 30 days of generated usage in the app's store.
 * Measured with one server worker and with the default of one per core, one after the other in the
 * same run.
 */
export async function run(args: string[]) {
  const indexes = arg(args, "indexes", 1000);
  const days = arg(args, "days", 30);
  const port = arg(args, "port", 3301);
  const cores = availableParallelism();
  const maxClients = arg(args, "max-clients", 8 * cores);
  const stagingRows = arg(args, "staging-rows", 1_000_000);
  const curves: Record<string, Curve> = {};
  let generateSeconds = 0;
  // The data is generated once, into the store the app keeps in its data directory across restarts.
  const generate = async (app: BenchApp) => {
    const { port: pgPort, password } = app.embedded;
    const store = new pg.Client({ connectionString: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${pgPort}/indexdeck` });
    // A failure below stops the app and its PostgreSQL; this connection's end must not hide that failure.
    store.on("error", () => undefined);
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
    curves[label(workers, "worker")] = await measure(
      port,
      workers,
      { maxClients, stagingRows, days },
      workers === configs[0] ? generate : null,
      indexes,
    );
  }
  // The goal holds while every core has work queued for it: up to four closed-loop clients per core on
  // the default worker count (one per core). The curve goes on to eight per core to show where it
  // stops holding; /help, which reads nothing, is measured beside the two as the framework's floor.
  const underGoal = Object.entries(curves[label(cores, "worker")])
    .filter(([, point]) => point.clients <= 4 * cores)
    .map(([, point]) => point);
  console.log(
    JSON.stringify({
      benchmark: "usage-http",
      indexes,
      days,
      cores,
      generateSeconds: +generateSeconds.toFixed(1),
      curves,
      ...verdict([
        { figure: `points measured at 1 to ${4 * cores} clients, ${label(cores, "worker")}`, value: underGoal.length, op: ">=", goal: 1 },
        {
          figure: `/api/usage 30 days p95, worst of 1 to ${4 * cores} clients, ${label(cores, "worker")}`,
          value: Math.max(...underGoal.map((p) => p.usageApi30dMs.p95)),
          op: "<=",
          goal: 100,
          unit: "ms",
        },
        {
          figure: `Indexes page p95, worst of 1 to ${4 * cores} clients, ${label(cores, "worker")}`,
          value: Math.max(...underGoal.map((p) => p.indexesPageMs.p95)),
          op: "<=",
          goal: 100,
          unit: "ms",
        },
      ]),
    }),
  );
}

type BenchApp = Awaited<ReturnType<typeof startBenchApp>>;
const label = (n: number, what: string) => `${n} ${what}${n > 1 ? "s" : ""}`;

async function measure(
  port: number,
  workers: number,
  { maxClients, stagingRows, days }: { maxClients: number; stagingRows: number; days: number },
  prepare: ((app: BenchApp) => Promise<void>) | null,
  indexes: number,
): Promise<Curve> {
  // The collector at its default interval (60 s), not the demo's 10 s meant for watching charts fill.
  const app = await startBenchApp(port, { INDEXDECK_COLLECT_INTERVAL_MS: "60000", INDEXDECK_WORKERS: String(workers) }, { stagingRows });
  try {
    await prepare?.(app);
    const base = `http://localhost:${port}`;
    const cookie = await signIn(base, "engineer", app.logins.engineer);
    const paths = {
      usageApi30dMs: (i: number) => `/api/usage?target=chefcloud_staging&index=public.bench_idx_${1 + (i % indexes)}&range=30d`,
      indexesPageMs: () => "/indexes?target=chefcloud_staging",
      helpPageMs: () => "/help",
    };
    await expectContent(base, cookie, paths.indexesPageMs(), paths.usageApi30dMs(0), indexes, days);
    const get = httpGetter(base, cookie);
    // Warm every worker: each compiles its routes and fills its caches on first use.
    for (const path of Object.values(paths)) await load(20 * workers, 2 * workers, (i) => get(path(i)));
    const curve: Curve = {};
    for (let clients = 1; clients <= maxClients; clients *= 2) {
      const point = { clients } as Point;
      for (const [name, path] of Object.entries(paths) as Array<[Exclude<keyof Point, "clients">, (i: number) => string]>) {
        const requests = Math.max(200, 100 * clients);
        const [cpu0, loop0, t0] = [treeCpuMs(app.pid), process.cpuUsage(), performance.now()];
        const xs = await load(requests, clients, (i) => get(path(i)));
        const [cpu, loop, seconds] = [treeCpuMs(app.pid, cpu0.reading), process.cpuUsage(loop0), (performance.now() - t0) / 1000];
        const perRequest = (ms: number) => +(ms / requests).toFixed(2);
        point[name] = {
          p50: +percentile(xs, 50).toFixed(1),
          p95: +percentile(xs, 95).toFixed(1),
          max: +xs.at(-1)!.toFixed(1),
          requests,
          perSecond: Math.round(requests / seconds),
          cpuMsPerRequest: {
            app: perRequest(cpu.app),
            postgres: perRequest(cpu.postgres),
            loadLoop: perRequest((loop.user + loop.system) / 1000),
          },
        };
      }
      curve[label(clients, "client")] = point;
    }
    return curve;
  } finally {
    await app.stop();
  }
}

/**
 * The load loop reads bodies without parsing them, so first check once, as a browser would see
 * them, that the page lists every bench index and the API answers with a 30-day series: a fast
 * error page must not pass for a fast page.
 */
async function expectContent(base: string, cookie: string, page: string, api: string, indexes: number, days: number): Promise<void> {
  const html = await (await fetch(`${base}${page}`, { headers: { cookie } })).text();
  const listed = Number(/data-testid="index-count">([\d,]+)/.exec(html)?.[1].replace(/,/g, "") ?? 0);
  if (listed < indexes) throw new Error(`${page} lists ${listed} indexes, expected at least ${indexes}`);
  const res = await fetch(`${base}${api}`, { headers: { cookie } });
  const points = res.ok ? ((await res.json()) as { series: { t: number[] } }).series.t.length : 0;
  // Hourly points over the days generated (at most the 30-day range), less a few at the edges.
  const expected = Math.min(100, 20 * days);
  if (points < expected)
    throw new Error(`${api}: ${res.status}, ${points} points, expected at least ${expected} (${days} days of hourly buckets)`);
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
