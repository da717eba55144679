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

/** The system PostgreSQL on 127.0.0.1:5432 when reachable (INDEXDECK_BENCH_PG to override), else the embedded one. */
export async function benchServer(): Promise<BenchServer> {
  const base = process.env.INDEXDECK_BENCH_PG ?? "postgres://postgres@127.0.0.1:5432/postgres";
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
  } catch {
    const e = await startEmbedded(path.resolve(".indexdeck-bench"));
    return { name: "embedded PostgreSQL", url: e.url, stop: e.stop };
  }
}

/** A ChefCloud database with `rows` rows per table, generated once and reused across bench runs. */
export async function chefcloud(server: BenchServer, name: string, rows: number): Promise<string> {
  await ensureChefcloud(server.url("postgres"), server.url, name, rows, (l) => console.error(l));
  return server.url(name);
}

/** Runs statements as the server's admin on its postgres database. */
async function asAdmin(server: BenchServer, ...statements: string[]): Promise<void> {
  const admin = new pg.Client({ connectionString: server.url("postgres") });
  await admin.connect();
  try {
    for (const sql of statements) await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/** A fresh copy of `template` (CREATE DATABASE … TEMPLATE), so every run starts from identical data. */
export async function copyDatabase(server: BenchServer, template: string, copy: string): Promise<string> {
  await asAdmin(
    server,
    `DROP DATABASE IF EXISTS ${quoteIdent(copy)} WITH (FORCE)`,
    `CREATE DATABASE ${quoteIdent(copy)} TEMPLATE ${quoteIdent(template)}`,
  );
  return server.url(copy);
}

/** An empty database of this name, dropped first if an earlier run left it. */
export async function emptyDatabase(server: BenchServer, db: string): Promise<string> {
  await asAdmin(server, `DROP DATABASE IF EXISTS ${quoteIdent(db)} WITH (FORCE)`, `CREATE DATABASE ${quoteIdent(db)}`);
  return server.url(db);
}

export async function dropDatabase(server: BenchServer, db: string): Promise<void> {
  await asAdmin(server, `DROP DATABASE IF EXISTS ${quoteIdent(db)} WITH (FORCE)`);
}

export function arg(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
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

const APP_DIR = ".indexdeck-bench-app";

/**
 * The built app on its own embedded data (the demo launcher with a small production and a
 * 1,000,000-row staging), for benchmarks that must go through HTTP like a browser does.
 */
export async function startBenchApp(port: number, env: Record<string, string> = {}) {
  const app = spawn(
    process.execPath,
    [
      "bin/demo.mjs",
      "--data-dir",
      APP_DIR,
      "--rows",
      "20000",
      "--staging-rows",
      "1000000",
      "--port",
      String(port),
      "--logins-file",
      `${APP_DIR}/logins.json`,
    ],
    { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...env } },
  );
  await new Promise<void>((resolve, reject) => {
    app.stdout!.on("data", (d: Buffer) => d.toString().includes("indexdeck is serving") && resolve());
    app.on("exit", (code) => reject(new Error(`the app exited with ${code}`)));
  });
  return {
    pid: app.pid!,
    embedded: JSON.parse(readFileSync(`${APP_DIR}/embedded.json`, "utf8")) as { port: number; password: string },
    logins: JSON.parse(readFileSync(`${APP_DIR}/logins.json`, "utf8")) as Record<string, string>,
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
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const [comm, rest] = [stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")), stat.slice(stat.lastIndexOf(")") + 2).split(" ")];
        // Fields after the name: state, ppid, … utime (14th), stime (15th) in clock ticks of 10 ms.
        return [{ pid: Number(pid), ppid: Number(rest[1]), comm, ms: (Number(rest[11]) + Number(rest[12])) * 10 }];
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
 * `indexes` synthetic indexes × `days` of 5-minute, hourly and daily usage buckets, plus a latest raw
 * one. Buckets already there from an earlier run are kept; only the missing recent ones are added.
 */
export async function generateUsage(db: pg.ClientBase, targetId: string, prefix: string, indexes: number, days: number): Promise<void> {
  for (const [resolution, seconds] of [
    ["5m", 300],
    ["1h", 3600],
    ["1d", 86400],
  ] as const) {
    await db.query(
      `INSERT INTO usage_delta (target_id, index_key, resolution, bucket_start, seconds, scans, tuples_read, tuples_fetched, blks_read, blks_hit)
       SELECT $5, $6 || i, $1, b, $2, (random() * 100)::int, 0, (random() * 500)::int, 0, 0
         FROM generate_series(1, $3) i,
              generate_series(
                greatest(date_trunc('day', now()) - make_interval(days => $4),
                         (SELECT max(bucket_start) + make_interval(secs => $2) FROM usage_delta
                           WHERE target_id = $5 AND index_key = $7 AND resolution = $1)),
                now(), make_interval(secs => $2)) b
       ON CONFLICT DO NOTHING`,
      [resolution, seconds, indexes, days, targetId, prefix, `${prefix}${indexes}`],
    );
  }
  await db.query(
    `INSERT INTO usage_delta (target_id, index_key, resolution, bucket_start, seconds, scans, tuples_read, tuples_fetched, blks_read, blks_hit)
     SELECT $2, $3 || i, 'raw', now() - interval '1 minute', 60, 5, 0, 5, 0, 0 FROM generate_series(1, $1) i ON CONFLICT DO NOTHING`,
    [indexes, targetId, prefix],
  );
  await db.query("ANALYZE usage_delta");
}
