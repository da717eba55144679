import pg from "pg";
import { applyTasks } from "../lib/rollout/apply";
import { MemorySink } from "../lib/rollout/memory-sink";
import { planChangeSet } from "../lib/rollout/plan";
import { arg, benchServer, chefcloud, copyDatabase, dropDatabase, percentile, verdict } from "./support";

interface Window {
  writes: number;
  failed: number;
  seconds: number;
  writesPerSecond: number;
  maxLatencyMs: number;
  p99LatencyMs: number;
}

/**
 * A fixed-rate writer (inserts into payments, updates of purchase_orders) on loopback, measured
 * before and during a build of the two indexes on exactly those tables. Run twice on identical
 * copies: with indexdeck (CONCURRENTLY), and with a plain CREATE INDEX as the control that must
 * show writes stalled, which proves the measurement can fail.
 */
export async function run(args: string[]) {
  const rows = arg(args, "rows", 2_000_000);
  const rate = arg(args, "rate", 400);
  const baselineSeconds = arg(args, "baseline", 5);
  const server = await benchServer();
  await chefcloud(server, `bench_chefcloud_${rows}`, rows);
  const concurrent =
    "SET lock_timeout = '2s';\nSET statement_timeout = 0;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS idx_po_org_status_created ON purchase_orders (org_id, status, created_at);\nCREATE INDEX CONCURRENTLY IF NOT EXISTS idx_payments_org_status_created ON payments (org_id, status, created_at);\n";
  const results: Record<string, unknown> = {};
  for (const mode of ["indexdeck", "control-plain-create-index"] as const) {
    const url = await copyDatabase(server, `bench_chefcloud_${rows}`, "bench_write_impact");
    const writer = startWriter(url, rate, rows);
    await sleep(1000); // warm-up
    writer.mark();
    await sleep(baselineSeconds * 1000);
    const baseline = writer.mark();
    const started = performance.now();
    if (mode === "indexdeck") {
      const tasks = await planChangeSet("write-impact.sql", concurrent, "production");
      const r = await applyTasks(tasks, new MemorySink(), { url, applicationName: "indexdeck:bench", targetKey: "bench" });
      if (!r.ok) throw new Error(r.error);
    } else {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query("CREATE INDEX idx_po_org_status_created ON purchase_orders (org_id, status, created_at)");
      await c.query("CREATE INDEX idx_payments_org_status_created ON payments (org_id, status, created_at)");
      await c.end();
    }
    const buildSeconds = (performance.now() - started) / 1000;
    await sleep(200);
    const during = writer.mark();
    await writer.stop();
    results[mode] = {
      buildSeconds: +buildSeconds.toFixed(2),
      baseline,
      during,
      ratio: +(during.writesPerSecond / baseline.writesPerSecond).toFixed(3),
    };
  }
  await dropDatabase(server, "bench_write_impact");
  await server.stop();
  const ours = results.indexdeck as { ratio: number; during: Window };
  const control = results["control-plain-create-index"] as { ratio: number; during: Window; buildSeconds: number };
  console.log(
    JSON.stringify({
      benchmark: "write-impact",
      server: server.name,
      rowsPerTable: rows,
      targetWritesPerSecond: rate,
      ...results,
      ...verdict([
        { figure: "writes/s during the build ÷ before", value: ours.ratio, op: ">=", goal: 0.8 },
        { figure: "failed writes during the build", value: ours.during.failed, op: "==", goal: 0 },
        // The control proves the measurement can fail: a plain CREATE INDEX must stall the writer.
        {
          figure: "control's longest write ÷ half its build",
          value: control.during.maxLatencyMs / (0.5 * control.buildSeconds * 1000),
          op: ">=",
          goal: 1,
        },
      ]),
    }),
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function startWriter(url: string, rate: number, rows: number) {
  const pool = new pg.Pool({ connectionString: url, max: 16, application_name: "bench-writer" });
  pool.on("error", () => undefined); // the next run drops this database WITH (FORCE)
  let nextId = 1_000_000_000;
  let stopped = false;
  let window = { start: performance.now(), latencies: [] as number[], failed: 0 };
  const inflight = new Set<Promise<void>>();
  const issue = () => {
    const t = performance.now();
    const insert = nextId % 2 === 0;
    const id = nextId++;
    const p = (
      insert
        ? pool.query(
            "INSERT INTO payments (id, org_id, order_id, status, method, amount, created_at) VALUES ($1, $2, $1, 'pending', 'card', 12.5, now())",
            [id, 1 + (id % 500)],
          )
        : pool.query("UPDATE purchase_orders SET status = 'approved', updated_at = now() WHERE id = $1", [1 + (id % rows)])
    )
      .then(() => {
        window.latencies.push(performance.now() - t);
      })
      .catch(() => {
        window.failed++;
      })
      .finally(() => inflight.delete(p));
    inflight.add(p);
  };
  // Open loop: writes are issued on schedule whether or not earlier ones finished, as real traffic is.
  const perTick = rate / 100;
  let owed = 0;
  const timer = setInterval(() => {
    if (stopped) return;
    owed += perTick;
    while (owed >= 1) {
      issue();
      owed--;
    }
  }, 10);
  return {
    mark(): Window {
      const now = performance.now();
      const seconds = (now - window.start) / 1000;
      const sorted = [...window.latencies].sort((a, b) => a - b);
      const result = {
        writes: sorted.length,
        failed: window.failed,
        seconds: +seconds.toFixed(2),
        writesPerSecond: +(sorted.length / seconds).toFixed(1),
        maxLatencyMs: Math.round(sorted.at(-1) ?? 0),
        p99LatencyMs: Math.round(percentile(sorted, 99)),
      };
      window = { start: now, latencies: [], failed: 0 };
      return result;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.all(inflight);
      await pool.end();
    },
  };
}
