import pg from "pg";
import { refreshUsageRates } from "../lib/monitor/usage";
import { arg, generateUsage, load, percentile, signIn, startBenchApp } from "./support";

/**
 * The usage API and the Indexes page over HTTP, through the built app and its session checks, with
 * 8 concurrent clients on loopback: 1,000 indexes × 30 days of usage in the app's store for the
 * staging target (synthetic keys beside its real indexes).
 */
export async function run(args: string[]) {
  const indexes = arg(args, "indexes", 1000);
  const days = arg(args, "days", 30);
  const port = arg(args, "port", 3301);
  const base = `http://localhost:${port}`;
  const app = await startBenchApp(port);
  try {
    const { port: pgPort, password } = app.embedded;
    const store = new pg.Client({ connectionString: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${pgPort}/indexdeck` });
    await store.connect();
    const t0 = performance.now();
    await generateUsage(store, "chefcloud_staging", "public.bench_idx_", indexes, days);
    await refreshUsageRates(store, "chefcloud_staging");
    const generateSeconds = (performance.now() - t0) / 1000;
    await store.end();
    const cookie = await signIn(base, "engineer", app.logins.engineer);
    const get = async (path: string) => {
      const res = await fetch(`${base}${path}`, { headers: { cookie } });
      if (!res.ok) throw new Error(`${path}: ${res.status}`);
      await res.arrayBuffer();
    };
    await get("/indexes?target=chefcloud_staging"); // warm
    const api = await load(400, 8, (i) => get(`/api/usage?target=chefcloud_staging&index=public.bench_idx_${1 + (i % indexes)}&range=30d`));
    const page = await load(80, 8, () => get("/indexes?target=chefcloud_staging"));
    const summary = (xs: number[]) => ({ p50: +percentile(xs, 50).toFixed(1), p95: +percentile(xs, 95).toFixed(1), max: +xs.at(-1)!.toFixed(1), requests: xs.length });
    console.log(JSON.stringify({
      benchmark: "usage-http", indexes, days, generateSeconds: +generateSeconds.toFixed(1), clients: 8,
      usageApi30dMs: summary(api), indexesPageMs: summary(page),
      goal: { p95Ms: 100 }, pass: percentile(api, 95) < 100 && percentile(page, 95) < 100,
    }));
  } finally {
    await app.stop();
  }
}
