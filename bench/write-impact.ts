import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { applyTasks } from "../lib/rollout/apply";
import { MemorySink } from "../lib/rollout/memory-sink";
import { pacedSettings, type Pacing } from "../lib/rollout/pacing";
import { planChangeSet } from "../lib/rollout/plan";
import {
  arg,
  benchServer,
  BenchMissing,
  chefcloud,
  copyDatabase,
  dropDatabase,
  median,
  percentile,
  ratioRounds,
  verdict,
  type BenchServer,
} from "./support";

const INDEXES = [
  "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_po_org_status_created ON purchase_orders (org_id, status, created_at);",
  "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_payments_org_status_created ON payments (org_id, status, created_at);",
];
const CHANGE_SET = ["SET lock_timeout = '2s';", "SET statement_timeout = 0;", ...INDEXES, ""].join("\n");
const PLAIN = INDEXES.map((s) => s.replace(" CONCURRENTLY IF NOT EXISTS", ""));

// One transaction of the load: an insert into payments and an update of purchase_orders, the tables the two indexes are on.
const SCRIPT = `\\set org random(1, 500)
\\set po random(1, :rows)
INSERT INTO payments (id, org_id, order_id, status, method, amount, created_at) VALUES (nextval('bench_payment_id'), :org, :po, 'pending', 'card', 12.5, now());
UPDATE purchase_orders SET status = 'approved', updated_at = now() WHERE id = :po;
`;

type Mode = "default" | "gentle" | "control";

/**
 * The ratio goals, judged on the median over rounds (ratioRounds: an early stop on its 99.5% interval,
 * the last round on its 95% one): gentle apply's p99 write latency during its build ÷ before, and the
 * control's writes/s during ÷ before.
 */
const GOALS = {
  gentleP99: { op: "<=", goal: 3 },
  controlThroughput: { op: "<=", goal: 0.5 },
} as const;

/** The gentle mode's pacing, as a target's apply section would give it: one process builds, and pauses between statements when the server is busy. */
function gentlePacing(clients: number): Pacing {
  const apply = {
    maxParallelMaintenanceWorkers: 0,
    maintenanceWorkMem: "64MB",
    pauseWhen: { wraparoundVacuum: true, activeConnections: clients },
    recheckSeconds: 1,
  };
  return { settings: pacedSettings(apply), pauseWhen: apply.pauseWhen, replicas: [], recheckMs: 1000 };
}

/** pgbench of the server's own major when `pg_config` knows it, else the one on the PATH (postgresql-client). */
function pgbenchPath(): string {
  try {
    const own = path.join(execFileSync("pg_config", ["--bindir"], { encoding: "utf8" }).trim(), "pgbench");
    if (existsSync(own)) return own;
  } catch {
    // no pg_config: the PATH's pgbench
  }
  return "pgbench";
}

interface PgbenchRun {
  /** Every transaction pgbench logged: when it was scheduled (epoch ms), its latency (ms; null when skipped). */
  transactions: Array<{ scheduledMs: number; latencyMs: number | null }>;
  failed: number;
  abortedClients: number;
  stdout: string;
}

/** Runs pgbench with per-transaction logs into a temporary directory; resolves when it exits. */
async function pgbench(url: string, options: string[]): Promise<PgbenchRun> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "indexdeck-pgbench-"));
  try {
    const script = path.join(dir, "writes.sql");
    await writeFile(script, SCRIPT);
    const args = ["-n", "-f", script, "-l", `--log-prefix=${path.join(dir, "tx")}`, ...options, url];
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(pgbenchPath(), args, { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      let err = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (err += d));
      child.on("error", (e: NodeJS.ErrnoException) =>
        reject(
          e.code === "ENOENT" ? new BenchMissing("pgbench not found: install postgresql-client (it is in the PostgreSQL packages)") : e,
        ),
      );
      child.on("close", (c) => resolve({ code: c, stdout: out, stderr: err }));
    });
    // The bench ends the load by terminating pgbench's sessions, and pgbench then exits 2 like any failure:
    // its stderr's abort lines (external text, the only account it gives) tell that stop from a real one.
    const abortedClients = (stderr.match(/client \d+ (script \d+ )?aborted/g) ?? []).length;
    if (code !== 0 && !abortedClients) throw new Error(`pgbench exited ${code}: ${stderr.slice(-2000)}`);
    const transactions: PgbenchRun["transactions"] = [];
    for (const file of (await readdir(dir)).filter((f) => f.startsWith("tx."))) {
      for (const line of (await readFile(path.join(dir, file), "utf8")).split("\n")) {
        // client_id transaction_no time script_no time_epoch time_us [schedule_lag]: time is µs from the scheduled start, or "skipped".
        const f = line.split(" ");
        if (f.length < 6) continue;
        if (f[2] === "failed") continue; // counted from pgbench's summary
        const endMs = Number(f[4]) * 1000 + Number(f[5]) / 1000;
        const latencyMs = f[2] === "skipped" ? null : Number(f[2]) / 1000;
        transactions.push({ scheduledMs: endMs - (latencyMs ?? 0), latencyMs });
      }
    }
    const failed = Number(/number of failed transactions: (\d+)/.exec(stdout)?.[1] ?? 0);
    return { transactions, failed, abortedClients, stdout };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface Window {
  seconds: number;
  transactions: number;
  tps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  skipped: number;
  /** Completed, but later than --latency-limit. */
  late: number;
}

/** The transactions scheduled inside [fromMs, toMs): pgbench counts a transaction's latency from its scheduled start. */
function window(run: PgbenchRun, fromMs: number, toMs: number, limitMs: number): Window {
  const inside = run.transactions.filter((t) => t.scheduledMs >= fromMs && t.scheduledMs < toMs);
  const done = inside.flatMap((t) => (t.latencyMs === null ? [] : [t.latencyMs])).sort((a, b) => a - b);
  const seconds = (toMs - fromMs) / 1000;
  return {
    seconds: +seconds.toFixed(2),
    transactions: done.length,
    tps: +(done.length / seconds).toFixed(1),
    p50Ms: +percentile(done, 50).toFixed(2),
    p99Ms: +percentile(done, 99).toFixed(2),
    maxMs: +(done.at(-1) ?? 0).toFixed(2),
    skipped: inside.length - done.length,
    late: done.filter((l) => l > limitMs).length,
  };
}

async function prepare(server: BenchServer, template: string, checkpoint: boolean): Promise<string> {
  const url = await copyDatabase(server, template, "bench_write_impact");
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    // The copy's WAL is flushed before the load starts, so no checkpoint of it lands in a window.
    await c.query("CREATE SEQUENCE bench_payment_id START 1000000000000");
    if (checkpoint) await c.query("CHECKPOINT");
  } finally {
    await c.end();
  }
  return url;
}

/**
 * Ends the load at the end of the build: pgbench's sessions are terminated, so it exits and writes its
 * logs. A session missing before that is a client pgbench aborted on an error: writes that failed.
 */
async function endLoad(url: string, clients: number): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const {
      rows: [{ alive }],
    } = await c.query<{ alive: number }>(
      `SELECT count(*)::int AS alive
         FROM pg_stat_activity
        WHERE datname = current_database()
          AND application_name = 'pgbench'`,
    );
    await c.query(
      `SELECT pg_terminate_backend(pid)
         FROM pg_stat_activity
        WHERE datname = current_database()
          AND application_name = 'pgbench'`,
    );
    return clients - alive;
  } finally {
    await c.end();
  }
}

/** Builds the two indexes the mode's way; how often and how long apply paused between them. */
async function build(mode: Mode, url: string, clients: number): Promise<{ pauses: number; pausedSeconds: number }> {
  if (mode === "control") {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      for (const sql of PLAIN) await c.query(sql);
    } finally {
      await c.end();
    }
    return { pauses: 0, pausedSeconds: 0 };
  }
  const tasks = await planChangeSet("write-impact.sql", CHANGE_SET, "production");
  const sink = new MemorySink();
  const r = await applyTasks(tasks, sink, {
    url,
    applicationName: `indexdeck:bench-${mode}`,
    targetKey: "bench",
    pacing: mode === "gentle" ? gentlePacing(clients) : undefined,
  });
  if (!r.ok) throw new Error(`${mode} apply failed: ${r.error}`);
  return {
    pauses: sink.events.filter((e) => e.kind === "paused").length,
    pausedSeconds: sink.events.reduce((sum, e) => sum + (e.kind === "resumed" ? e.data.pausedSeconds : 0), 0),
  };
}

/**
 * pgbench at a fixed rate (-R) of inserts and updates on the two tables the change set indexes, before
 * and during the build, on identical copies: indexdeck's apply as it is by default, the same in gentle
 * mode (no parallel workers, pacing), and a plain CREATE INDEX as the control that must show the
 * stall, which proves the measurement can fail. The rate is half the machine's measured capacity.
 */
export async function run(args: string[]) {
  const rows = arg(args, "rows", 2_000_000);
  const baselineSeconds = arg(args, "baseline", 10);
  const capacitySeconds = arg(args, "capacity-seconds", 10);
  // A round builds three times on fresh copies, about a minute each at 2,000,000 rows: three rounds
  // decide a goal when all three ratios are on one side of it. Up to eight rounds both intervals an
  // early stop or the last round uses are the least and greatest ratio (medianRank), which a further
  // round can only widen, so a goal undecided after three is decided, if at all, at the ninth, the
  // last by default, whose 95% interval leaves out the extremes: more rounds are only run then.
  const minRounds = arg(args, "rounds", 3);
  const maxRounds = Math.max(minRounds, arg(args, "max-rounds", 9));
  const limitMs = arg(args, "latency-limit", 100);
  const clients = arg(args, "clients", 8);
  const checkpoint = arg(args, "checkpoint", 1) > 0;
  const server = await benchServer();
  const template = `bench_chefcloud_${rows}`;
  await chefcloud(server, template, rows);
  const common = ["-c", String(clients), "-j", "2", "-D", `rows=${rows}`];

  // The machine's capacity for this script, unthrottled; the load runs at half of it.
  const capacityRun = await pgbench(await prepare(server, template, checkpoint), [...common, "-T", String(capacitySeconds)]);
  const capacityTps = capacityRun.transactions.length / capacitySeconds;
  const rate = Math.max(1, Math.round(capacityTps / 2));

  const perRound: Array<Record<Mode, unknown>> = [];
  const summary: Record<Mode, { failed: number; lateOrSkipped: number; buildSeconds: number[]; throughput: number[] }> = {
    default: { failed: 0, lateOrSkipped: 0, buildSeconds: [], throughput: [] },
    gentle: { failed: 0, lateOrSkipped: 0, buildSeconds: [], throughput: [] },
    control: { failed: 0, lateOrSkipped: 0, buildSeconds: [], throughput: [] },
  };
  const judged = await ratioRounds({ min: minRounds, max: maxRounds }, GOALS, async (round) => {
    const modes: Mode[] = round % 2 === 0 ? ["default", "gentle", "control"] : ["control", "gentle", "default"];
    const results = {} as Record<Mode, unknown>;
    const ratios = { gentleP99: 0, controlThroughput: 0 };
    for (const mode of modes) {
      const url = await prepare(server, template, checkpoint);
      const warmupSeconds = 1;
      const loadStart = Date.now();
      // -T is only a cap: the load is ended as soon as the build is (see endLoad).
      const load = pgbench(url, [...common, "-R", String(rate), "--latency-limit", String(limitMs), "-T", "3600"]);
      await new Promise((r) => setTimeout(r, (warmupSeconds + baselineSeconds) * 1000));
      const buildStart = Date.now();
      const pauses = await build(mode, url, clients);
      const buildEnd = Date.now();
      const lostClients = await endLoad(url, clients);
      const writes = await load;
      const before = window(writes, loadStart + warmupSeconds * 1000, buildStart, limitMs);
      const during = window(writes, buildStart, buildEnd, limitMs);
      const buildSeconds = (buildEnd - buildStart) / 1000;
      const failed = writes.failed + lostClients;
      results[mode] = { buildSeconds: +buildSeconds.toFixed(2), ...pauses, failedWrites: failed, before, during };
      const s = summary[mode];
      s.failed += failed;
      s.lateOrSkipped += during.late + during.skipped;
      s.buildSeconds.push(buildSeconds);
      const throughput = during.tps / Math.max(before.tps, 0.001);
      s.throughput.push(throughput);
      if (mode === "gentle") ratios.gentleP99 = during.p99Ms / Math.max(before.p99Ms, 0.001);
      if (mode === "control") ratios.controlThroughput = throughput;
    }
    perRound.push(results);
    return ratios;
  });
  const { gentleP99, controlThroughput } = judged.series;
  await dropDatabase(server, "bench_write_impact");
  await server.stop();
  console.log(
    JSON.stringify({
      benchmark: "write-impact",
      server: server.name,
      rowsPerTable: rows,
      clients,
      capacityTps: +capacityTps.toFixed(1),
      rate,
      latencyLimitMs: limitMs,
      rounds: perRound,
      gentleP99Ratios: gentleP99.ratios,
      gentleP99Ratio95: gentleP99.medianRatio95,
      controlThroughputRatio95: controlThroughput.medianRatio95,
      duringOverBeforeTps: Object.fromEntries(Object.entries(summary).map(([m, s]) => [m, s.throughput.map((r) => +r.toFixed(3))])),
      buildSecondsMedian: Object.fromEntries(Object.entries(summary).map(([m, s]) => [m, +median(s.buildSeconds).toFixed(2)])),
      ...verdict([
        { figure: "failed writes, default apply (CONCURRENTLY)", value: summary.default.failed, op: "==", goal: 0 },
        { figure: "failed writes, gentle apply (CONCURRENTLY)", value: summary.gentle.failed, op: "==", goal: 0 },
        {
          figure: "gentle p99 during ÷ before, median of rounds",
          value: gentleP99.medianRatio,
          ...GOALS.gentleP99,
          decided: gentleP99.decided,
        },
        { figure: "gentle late or skipped transactions during the build", value: summary.gentle.lateOrSkipped, op: "==", goal: 0 },
        // The control proves the measurement can fail: a plain CREATE INDEX must stall the writers. Its
        // longest write is no measure of that, as the writes queued at the stall's start are in the window before.
        {
          figure: "control's writes/s during ÷ before, median of rounds",
          value: controlThroughput.medianRatio,
          ...GOALS.controlThroughput,
          decided: controlThroughput.decided,
        },
      ]),
    }),
  );
}
