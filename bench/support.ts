import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import pg from "pg";
import { ensureChefcloud } from "../lib/demo/chefcloud";
import { startEmbedded } from "../lib/demo/embedded";
import { quoteIdent } from "../lib/sql/quote";

export interface BenchServer {
  name: string;
  url(db: string): string;
  stop(): Promise<void>;
}

/**
 * What a bench needs and could not reach (a database, its data, the built app). The runner prints
 * its message as one line and exits 2: a bench that did not measure never prints a `pass`.
 */
export class BenchMissing extends Error {
  readonly code = "BENCH_MISSING";
}

/**
 * The system PostgreSQL on 127.0.0.1:5432 when reachable, else the embedded one. INDEXDECK_BENCH_PG
 * names the server to use instead, and then it must be reachable: no silent fallback from the one asked for.
 */
export async function benchServer(): Promise<BenchServer> {
  const asked = process.env.INDEXDECK_BENCH_PG;
  const base = asked ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const c = new pg.Client({ connectionString: base, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    const {
      rows: [{ server_version: v }],
    } = await c.query("SHOW server_version");
    await c.end();
    return {
      name: `system PostgreSQL ${v}`,
      url: (db) => Object.assign(new URL(base), { pathname: `/${db}` }).toString(),
      stop: async () => undefined,
    };
  } catch (err) {
    await c.end().catch(() => undefined);
    if (asked) throw new BenchMissing(`cannot reach INDEXDECK_BENCH_PG (${redacted(asked)}): ${(err as Error).message}`);
    try {
      const e = await startEmbedded(path.resolve(".indexdeck-bench"));
      return { name: "embedded PostgreSQL", url: e.url, stop: e.stop };
    } catch (embedded) {
      throw new BenchMissing(
        `no PostgreSQL: 127.0.0.1:5432 did not answer and the embedded one did not start: ${(embedded as Error).message}`,
      );
    }
  }
}

/** A connection URL with its password left out, for a message. */
function redacted(url: string): string {
  try {
    return Object.assign(new URL(url), { password: "" }).toString();
  } catch {
    return "an unparsable URL";
  }
}

/** A ChefCloud database with `rows` rows per table, generated once and reused across bench runs. */
export async function chefcloud(server: BenchServer, name: string, rows: number): Promise<string> {
  await ensureChefcloud(server.url("postgres"), server.url, name, rows, (l) => console.error(l));
  return server.url(name);
}

/**
 * Runs statements as the server's admin on its postgres database; what fails is what the bench
 * could not get (`what`), said in one line.
 */
async function asAdmin(server: BenchServer, what: string, ...statements: string[]): Promise<void> {
  const admin = new pg.Client({ connectionString: server.url("postgres") });
  try {
    await admin.connect();
    for (const sql of statements) await admin.query(sql);
  } catch (err) {
    throw new BenchMissing(`${what} on ${server.name}: ${(err as Error).message}`);
  } finally {
    await admin.end().catch(() => undefined);
  }
}

const versions = new WeakMap<BenchServer, Promise<number>>();

/** The server's version number, read once per server; 0 when it can't be read, and the statements that follow say why. */
function versionNum(server: BenchServer): Promise<number> {
  let known = versions.get(server);
  if (!known) {
    known = (async () => {
      const c = new pg.Client({ connectionString: server.url("postgres") });
      try {
        await c.connect();
        return Number((await c.query("SHOW server_version_num")).rows[0].server_version_num);
      } catch {
        return 0;
      } finally {
        await c.end().catch(() => undefined);
      }
    })();
    versions.set(server, known);
  }
  return known;
}

/**
 * The database each run of an apply bench gets a fresh copy under, whichever client runs. With a
 * database per client, psql against psql (an A/A run) once differed by 4.5% in build time on the
 * server, one database staying slower than the other for the whole run; under one name, by 0.5%.
 */
export const APPLY_COPY = "bench_apply_copy";

/**
 * A fresh copy of `template` (CREATE DATABASE … TEMPLATE), so every run starts from identical data.
 * FILE_COPY (PostgreSQL 15 and later) checkpoints as it copies; the default (WAL_LOG) writes the whole
 * copy to the WAL, and the checkpoint that follows landed inside whichever timed run came next.
 */
export async function copyDatabase(server: BenchServer, template: string, copy: string): Promise<string> {
  await asAdmin(
    server,
    `cannot copy database ${template} to ${copy}`,
    `DROP DATABASE IF EXISTS ${quoteIdent(copy)} WITH (FORCE)`,
    `CREATE DATABASE ${quoteIdent(copy)} TEMPLATE ${quoteIdent(template)}${(await versionNum(server)) >= 150000 ? " STRATEGY FILE_COPY" : ""}`,
  );
  return server.url(copy);
}

/** An empty database of this name, dropped first if an earlier run left it. */
export async function emptyDatabase(server: BenchServer, db: string): Promise<string> {
  await asAdmin(
    server,
    `cannot create database ${db}`,
    `DROP DATABASE IF EXISTS ${quoteIdent(db)} WITH (FORCE)`,
    `CREATE DATABASE ${quoteIdent(db)}`,
  );
  return server.url(db);
}

export async function dropDatabase(server: BenchServer, db: string): Promise<void> {
  await asAdmin(server, `cannot drop database ${db}`, `DROP DATABASE IF EXISTS ${quoteIdent(db)} WITH (FORCE)`);
}

/**
 * A target database `db` with `indexes` small indexes named i1, i2, … (ten per table), so their keys
 * are the ones `generateUsage(…, "public.i", indexes, …)` writes history for. Made once and kept.
 */
export async function indexedTarget(server: BenchServer, db: string, indexes: number): Promise<string> {
  const perTable = 10;
  const url = await keptDatabase(server, db);
  const t = new pg.Client({ connectionString: url });
  await t.connect();
  try {
    // The last table is created last: when it is there, an earlier run made them all.
    const tables = Math.ceil(indexes / perTable);
    const {
      rows: [{ done }],
    } = await t.query("SELECT to_regclass($1) IS NOT NULL AS done", [`public.t${tables}`]);
    if (done) return url;
    console.error(`creating ${indexes} indexes in ${db}…`);
    for (let table = 1; table <= tables; table++) {
      const first = (table - 1) * perTable + 1;
      const ks = Array.from({ length: Math.min(perTable, indexes - first + 1) }, (_, k) => k);
      await t.query(
        [
          `CREATE TABLE IF NOT EXISTS t${table} (${Array.from({ length: perTable }, (_, k) => `c${k} int`).join(", ")})`,
          ...ks.map((k) => `CREATE INDEX IF NOT EXISTS i${first + k} ON t${table} (c${k})`),
        ].join(";\n"),
      );
    }
  } finally {
    await t.end();
  }
  return url;
}

/** A database of this name, created if missing and kept across runs (data generated once is reused). */
export async function keptDatabase(server: BenchServer, db: string): Promise<string> {
  const admin = new pg.Client({ connectionString: server.url("postgres") });
  try {
    await admin.connect();
    const { rowCount } = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [db]);
    if (!rowCount) await admin.query(`CREATE DATABASE ${quoteIdent(db)}`);
  } catch (err) {
    throw new BenchMissing(`cannot create database ${db} on ${server.name}: ${(err as Error).message}`);
  } finally {
    await admin.end().catch(() => undefined);
  }
  return server.url(db);
}

export function arg(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(args[i + 1]);
  if (!Number.isFinite(value) || value < 0) throw new BenchMissing(`--${name} needs a number ≥ 0, got ${args[i + 1] ?? "nothing"}`);
  return value;
}

/** The middle of `xs` (the mean of the two middle ones when there is an even number). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export interface Paired {
  aMs: number[];
  bMs: number[];
  /** b / a of each round, in round order. */
  ratios: number[];
  medianRatio: number;
  rounds: number;
  /**
   * Where the median ratio lies with 95% confidence, from the ratios' order statistics alone (no
   * assumption about how a busy machine spreads them): the k-th smallest and k-th largest ratio.
   */
  medianRatio95: [number, number];
  /** Whether that interval lies wholly on one side of the goal, so a second run would reach the same verdict; null without a goal. */
  decided: boolean | null;
}

/** Rounds until the median ratio is known to meet its goal or to miss it: at least `min`, at most `max`. */
export interface UntilDecided {
  min: number;
  max: number;
  op: "<=" | ">=";
  goal: number;
}

/**
 * The 1-based rank k for which the k-th smallest and k-th largest of n values hold their median with
 * at least 1 − 2·`tail` confidence: the largest k with P(Binomial(n, ½) < k) ≤ `tail`. Where no such k
 * exists (below 6 values for 95%, below 8 for 99%) it is 1: the extremes, with less confidence.
 */
export function medianRank(n: number, tail: number): number {
  let k = 1;
  let below = 0; // P(Binomial(n, ½) < i + 1)
  let term = 0.5 ** n; // P(Binomial(n, ½) = i)
  for (let i = 0; i < n; i++) {
    below += term;
    if (below > tail) break;
    k = i + 1;
    term = (term * (n - i)) / (i + 1);
  }
  return k;
}

/** The one-sided miss of the median's 95% interval, the one every verdict is reported on. */
export const TAIL_95 = 0.025;

/**
 * The one-sided miss allowed when rounds stop before `max`. A run looks after every round, and each
 * look at 95% is another chance to stop on a stray interval: with the true median on the goal, 8 to 30
 * rounds judged at 95% after each one called it decided in 12% of 20,000 simulated runs, and early
 * looks at 99% in 5.4%; up to 100 rounds (the CLI's apply), early looks at 99% did in 7.9% of 3,000,
 * and at 99.5% (0.25% a side) in 5.6% (`bin/bench.test.ts` holds both under 7%).
 */
const EARLY_STOP_TAIL = 0.0025;

/** One ratio measured in every round, judged on its median (see `pairedRounds`). */
export interface RatioSeries {
  /** In round order. */
  ratios: number[];
  medianRatio: number;
  /** Where the median ratio lies with 95% confidence: the k-th smallest and k-th largest ratio (medianRank at TAIL_95). */
  medianRatio95: [number, number];
  /** Whether that interval lies wholly on one side of the goal; null without a goal. */
  decided: boolean | null;
}

/**
 * Rounds that each measure one ratio per goal, at least `min` and at most `max`, ending once every
 * goal's median ratio is known to be on one side of it (`pairedRounds` is one goal of this). A round
 * that measures several ratios at once, as a bench with a slow round does, is run until all are decided.
 */
export async function ratioRounds<K extends string>(
  rounds: number | { min: number; max: number },
  goals: Record<K, Pick<UntilDecided, "op" | "goal"> | null>,
  round: (round: number) => Promise<Record<K, number>>,
): Promise<{ rounds: number; series: Record<K, RatioSeries> }> {
  const { min, max } = typeof rounds === "number" ? { min: rounds, max: rounds } : rounds;
  if (!(Number.isInteger(min) && min >= 1 && Number.isInteger(max) && max >= min))
    throw new Error(`rounds must be whole numbers with 1 ≤ min ≤ max, got ${JSON.stringify(rounds)}`);
  const keys = Object.keys(goals) as K[];
  const ratios = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  // The k-th smallest and k-th largest ratio, and whether they lie on one side of the key's goal.
  const interval = (key: K, tail: number) => {
    const sorted = [...ratios[key]].sort((x, y) => x - y);
    const k = medianRank(sorted.length, tail);
    const [lo, hi] = [sorted[k - 1], sorted[sorted.length - k]];
    const goal = goals[key];
    const decided = goal && (goal.op === "<=" ? hi <= goal.goal || lo > goal.goal : lo >= goal.goal || hi < goal.goal);
    return { sorted, lo, hi, decided };
  };
  const judge = (key: K): RatioSeries => {
    const { sorted, lo, hi, decided } = interval(key, TAIL_95);
    return {
      ratios: ratios[key].map((r) => +r.toFixed(3)),
      medianRatio: +median(sorted).toFixed(3),
      medianRatio95: [+lo.toFixed(3), +hi.toFixed(3)],
      decided,
    };
  };
  for (let r = 0; r < max; r++) {
    const measured = await round(r);
    for (const k of keys) ratios[k].push(measured[k]);
    if (r + 1 >= min && r + 1 < max && keys.every((k) => interval(k, EARLY_STOP_TAIL).decided !== false)) break;
  }
  const series = Object.fromEntries(keys.map((k) => [k, judge(k)])) as Record<K, RatioSeries>;
  return { rounds: ratios[keys[0]].length, series };
}

/**
 * Rounds of `a` and `b` side by side, `a` first in even rounds and `b` first in odd ones, so both see
 * the same machine; each call returns the milliseconds it measured. A ratio goal is judged on the
 * median of the pairwise ratios b / a: a burst of other work on a shared machine spoils a round or
 * two, not the verdict, where a ratio of sums or of minimums follows the burst. Given a goal, rounds
 * go on past `min` until the median's 99.5% interval lies on one side of it, or to `max`, where the 95%
 * interval judges (see EARLY_STOP_TAIL), so the verdict holds from one run to the next unless the
 * median sits near the goal itself. Every round is returned, so a reader sees the spread.
 */
export async function pairedRounds(
  rounds: number | UntilDecided,
  a: (round: number) => number | Promise<number>,
  b: (round: number) => number | Promise<number>,
): Promise<Paired> {
  const aMs: number[] = [];
  const bMs: number[] = [];
  const { rounds: n, series } = await ratioRounds(
    rounds,
    { ratio: typeof rounds === "number" ? null : { op: rounds.op, goal: rounds.goal } },
    async (r) => {
      if (r % 2 === 0) {
        aMs.push(await a(r));
        bMs.push(await b(r));
      } else {
        bMs.push(await b(r));
        aMs.push(await a(r));
      }
      return { ratio: bMs[r] / aMs[r] };
    },
  );
  return {
    aMs: aMs.map((x) => +x.toFixed(1)),
    bMs: bMs.map((x) => +x.toFixed(1)),
    ratios: series.ratio.ratios,
    medianRatio: series.ratio.medianRatio,
    rounds: n,
    medianRatio95: series.ratio.medianRatio95,
    decided: series.ratio.decided,
  };
}

/** One goal of a bench: a figure it measured, and the bound it must stay within. */
export interface Goal {
  figure: string;
  value: number;
  op: "<=" | ">=" | "==";
  goal: number;
  unit?: string;
  /**
   * For a median ratio over rounds (pairedRounds): whether its 95% interval lies on one side of the
   * goal. A median on the goal's side with an interval across it is not shown to meet the goal, and
   * does not: two runs on a busy machine then agree on `pass` instead of following the noise.
   */
  decided?: boolean | null;
}

/**
 * The goals with whether each is met, and `pass` when all are. Under `npm run bench -- all --quick`
 * (INDEXDECK_BENCH_QUICK=1) a bench runs at a size no goal is meant for: `pass` is null, never a verdict.
 */
export function verdict(goals: Goal[]): { goals: Array<Goal & { met: boolean }>; pass: boolean | null } {
  const judged = goals.map((g) => ({
    ...g,
    value: +g.value.toFixed(3),
    met: (g.op === "<=" ? g.value <= g.goal : g.op === ">=" ? g.value >= g.goal : g.value === g.goal) && g.decided !== false,
  }));
  return { goals: judged, pass: process.env.INDEXDECK_BENCH_QUICK === "1" ? null : judged.every((g) => g.met) };
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Signs in through next-auth's credentials endpoint and returns the session cookie header. */
export async function signIn(base: string, user: string, password: string): Promise<string> {
  const csrf = await fetch(`${base}/api/auth/csrf`);
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  const jar = csrf.headers.getSetCookie().map((c) => c.split(";")[0]);
  const res = await fetch(`${base}/api/auth/callback/credentials`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: jar.join("; ") },
    body: new URLSearchParams({ csrfToken, username: user, password, json: "true" }),
  });
  const session = res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .find((c) => c.includes("session-token"));
  if (!session) throw new Error(`sign-in as ${user} failed (${res.status})`);
  return [...jar, session].join("; ");
}

export async function post(base: string, cookie: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { cookie, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/**
 * The built app on its own embedded data (the demo launcher with a small production and, unless
 * told otherwise, a 1,000,000-row staging), for benchmarks that must go through HTTP like a browser
 * does. Each size keeps its own data directory, since the launcher reuses data generated before.
 */
export async function startBenchApp(
  port: number,
  env: Record<string, string> = {},
  { rows = 20_000, stagingRows = 1_000_000 }: { rows?: number; stagingRows?: number } = {},
) {
  const dir = `.indexdeck-bench-app/${rows}-${stagingRows}`;
  const app = spawn(
    process.execPath,
    [
      "bin/demo.mjs",
      "--data-dir",
      dir,
      "--rows",
      String(rows),
      "--staging-rows",
      String(stagingRows),
      "--port",
      String(port),
      "--logins-file",
      `${dir}/logins.json`,
    ],
    { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...env } },
  );
  await new Promise<void>((resolve, reject) => {
    app.stdout!.on("data", (d: Buffer) => d.toString().includes("indexdeck is serving") && resolve());
    app.on("exit", (code) => reject(new BenchMissing(`the app (bin/demo.mjs on port ${port}) exited with ${code} before serving`)));
  });
  return {
    pid: app.pid!,
    embedded: JSON.parse(readFileSync(`${dir}/embedded.json`, "utf8")) as { port: number; password: string },
    logins: JSON.parse(readFileSync(`${dir}/logins.json`, "utf8")) as Record<string, string>,
    stop: async () => {
      app.kill("SIGTERM");
      await new Promise((r) => app.once("exit", r));
    },
  };
}

/**
 * GET over keep-alive connections the way a load tool (wrk, autocannon) does it: the body is read
 * but not decompressed or parsed. fetch() spent 1.4–1.6 ms of CPU per call doing both, on the same two
 * cores the server had, and that was charged to the server's latency. It asks for gzip as a browser
 * does, so the server still pays for compressing. Resolves to the body's size; a status other than
 * 200 rejects with the path.
 */
export function httpGetter(base: string, cookie: string): (path: string) => Promise<number> {
  const { hostname, port } = new URL(base);
  const agent = new http.Agent({ keepAlive: true });
  return (path) =>
    new Promise((resolve, reject) => {
      http
        .get({ hostname, port, path, agent, headers: { cookie, "accept-encoding": "gzip, deflate, br" } }, (res) => {
          let bytes = 0;
          res.on("data", (chunk: Buffer) => (bytes += chunk.length));
          res.on("end", () => (res.statusCode === 200 ? resolve(bytes) : reject(new Error(`${path}: ${res.statusCode}`))));
          res.on("error", reject);
        })
        .on("error", reject);
    });
}

/**
 * CPU time (ms) a process and everything under it have used since `since` (or since they started),
 * split into PostgreSQL and the rest (the app's Node.js processes), from /proc. Only processes alive
 * at the second reading count: one that exited in between (a PostgreSQL backend, say) took its time
 * with it, so this is a lower bound.
 */
export function treeCpuMs(root: number, since?: Map<number, number>): { app: number; postgres: number; reading: Map<number, number> } {
  const procs = readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .flatMap((pid) => {
      try {
        return [{ pid: Number(pid), ...procStat(Number(pid)) }];
      } catch {
        return []; // gone between listing and reading
      }
    });
  const tree = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) {
      if (!tree.has(p.pid) && tree.has(p.ppid)) {
        tree.add(p.pid);
        grew = true;
      }
    }
  }
  const total = { app: 0, postgres: 0, reading: new Map<number, number>() };
  for (const p of procs) {
    if (!tree.has(p.pid)) continue;
    total.reading.set(p.pid, p.ms);
    total[p.comm === "postgres" ? "postgres" : "app"] += p.ms - (since?.get(p.pid) ?? 0);
  }
  return total;
}

/** A process's name, parent and CPU time (ms) from /proc; throws when it is gone. */
function procStat(pid: number): { comm: string; ppid: number; ms: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields after the name: state, ppid, … utime (14th), stime (15th) in clock ticks of 10 ms.
  return {
    comm: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")),
    ppid: Number(rest[1]),
    ms: (Number(rest[11]) + Number(rest[12])) * 10,
  };
}

/** CPU time (ms) these processes have used; NaN when one can't be read (on another machine, or gone). */
export function processCpuMs(pids: number[]): number {
  try {
    return pids.reduce((ms, pid) => ms + procStat(pid).ms, 0);
  } catch {
    return NaN;
  }
}

/** Closed-loop load: `clients` concurrent callers, `requests` calls in all; sorted latency of each call. */
export async function load(requests: number, clients: number, call: (i: number) => Promise<unknown>): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < requests) {
        const i = next++;
        const t = performance.now();
        await call(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return latencies.sort((a, b) => a - b);
}

/**
 * `indexes` synthetic indexes × `days` of 5-minute, hourly and daily usage buckets (5-minute ones over
 * `fiveMinuteDays`, `days` unless given), plus a latest raw one, written bucket after bucket as the
 * collector writes them. History already there from an earlier run is kept and completed at both
 * ends: a store first generated with fewer days is backfilled, not only topped up to now. The ends are
 * those of any of the indexes: the collector writes its open buckets only for indexes whose counters
 * moved, and a range taken from one index then overlapped another's rows (duplicate keys). A large
 * batch is loaded with the table's indexes dropped and built again after, in one transaction (so a run
 * cut short leaves the table as it was): maintaining them row by row took 70 s per million rows.
 */
export async function generateUsage(
  db: pg.ClientBase,
  targetId: string,
  prefix: string,
  indexes: number,
  days: number,
  fiveMinuteDays = days,
): Promise<void> {
  const spans = [
    ["5m", 300, fiveMinuteDays],
    ["1h", 3600, days],
    ["1d", 86400, days],
  ] as const;
  // Per resolution, the bucket ranges missing before and after what the last index already has.
  const { rows: missing } = await db.query<{ resolution: string; seconds: number; from: Date; to: Date; buckets: number }>(
    `WITH want AS (
       SELECT r.resolution, r.seconds,
              date_trunc('day', now()) - make_interval(days => r.span) AS first, now() AS last,
              (SELECT min(bucket_start) FROM usage_delta WHERE target_id = $1 AND resolution = r.resolution AND left(index_key, length($2)) = $2) AS held_from,
              (SELECT max(bucket_start) FROM usage_delta WHERE target_id = $1 AND resolution = r.resolution AND left(index_key, length($2)) = $2) AS held_to
         FROM unnest($3::text[], $4::int[], $5::int[]) AS r(resolution, seconds, span)
     ), ranges AS (
       SELECT resolution, seconds, first AS "from", coalesce(held_from - make_interval(secs => seconds), last) AS "to" FROM want
       UNION ALL
       SELECT resolution, seconds, held_to + make_interval(secs => seconds), last FROM want WHERE held_to IS NOT NULL
     )
     SELECT resolution, seconds, "from", "to", floor(extract(epoch FROM "to" - "from") / seconds)::int + 1 AS buckets
       FROM ranges WHERE "to" >= "from"`,
    [targetId, prefix, spans.map((s) => s[0]), spans.map((s) => s[1]), spans.map((s) => s[2])],
  );
  const rows = missing.reduce((n, m) => n + m.buckets * indexes, 0);
  const load = async () => {
    for (const m of missing) {
      await db.query(
        `INSERT INTO usage_delta (target_id, index_key, resolution, bucket_start, seconds, scans, tuples_read, tuples_fetched, blks_read, blks_hit)
         SELECT $1, $2 || i, $3, b, $4, (random() * 100)::int, 0, (random() * 500)::int, 0, 0
           FROM generate_series($5::timestamptz, $6::timestamptz, make_interval(secs => $4)) b,
                generate_series(1, $7) i
         ON CONFLICT DO NOTHING`,
        [targetId, prefix, m.resolution, m.seconds, m.from, m.to, indexes],
      );
    }
  };
  if (rows > 1_000_000) {
    console.error(`generating ${rows.toLocaleString("en")} usage rows…`);
    await withIndexesRebuilt(db, "usage_delta", load);
  } else await load();
  await db.query(
    `INSERT INTO usage_delta (target_id, index_key, resolution, bucket_start, seconds, scans, tuples_read, tuples_fetched, blks_read, blks_hit)
     SELECT $2, $3 || i, 'raw', now() - interval '1 minute', 60, 5, 0, 5, 0, 0 FROM generate_series(1, $1) i ON CONFLICT DO NOTHING`,
    [indexes, targetId, prefix],
  );
  // History written below a cutoff the collector's retention already applied: its next deletion
  // starts from the target's first row again, as it would after any writer but the collector.
  await db.query("DELETE FROM usage_retention WHERE target_id = $1", [targetId]);
  await db.query("ANALYZE usage_delta");
}

/**
 * Runs `load` on `table` without its indexes (its primary key included), then builds them again
 * from their own definitions, all in one transaction. The rows are packed into full pages, as a
 * store holds the history it had before migration 027 gave the table room for updates: history is
 * never updated, and half-empty pages would double the generation's writes.
 */
async function withIndexesRebuilt(db: pg.ClientBase, table: string, load: () => Promise<void>): Promise<void> {
  await db.query("BEGIN");
  try {
    const {
      rows: [{ options }],
    } = await db.query<{ options: string[] | null }>("SELECT reloptions AS options FROM pg_class WHERE oid = $1::regclass", [table]);
    await db.query(`ALTER TABLE ${quoteIdent(table)} SET (fillfactor = 100)`);
    const { rows: keys } = await db.query<{ name: string; def: string }>(
      "SELECT conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'p'",
      [table],
    );
    const { rows: plain } = await db.query<{ name: string; def: string }>(
      `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = $1::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)`,
      [table],
    );
    for (const k of keys) await db.query(`ALTER TABLE ${quoteIdent(table)} DROP CONSTRAINT ${quoteIdent(k.name)}`);
    for (const p of plain) await db.query(`DROP INDEX ${quoteIdent(p.name)}`);
    await load();
    await db.query("SET LOCAL maintenance_work_mem = '1GB'");
    for (const k of keys) await db.query(`ALTER TABLE ${quoteIdent(table)} ADD CONSTRAINT ${quoteIdent(k.name)} ${k.def}`);
    for (const p of plain) await db.query(p.def);
    await db.query(`ALTER TABLE ${quoteIdent(table)} RESET (fillfactor)`);
    if (options?.length) await db.query(`ALTER TABLE ${quoteIdent(table)} SET (${options.join(", ")})`);
    await db.query("COMMIT");
  } catch (err) {
    await db.query("ROLLBACK");
    throw err;
  }
}
