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
    const { rows: [{ server_version: v }] } = await c.query("SHOW server_version");
    await c.end();
    return { name: `system PostgreSQL ${v}`, url: (db) => Object.assign(new URL(base), { pathname: `/${db}` }).toString(), stop: async () => undefined };
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

/** A fresh copy of `template` (CREATE DATABASE … TEMPLATE), so every run starts from identical data. */
export async function copyDatabase(server: BenchServer, template: string, copy: string): Promise<string> {
  const admin = new pg.Client({ connectionString: server.url("postgres") });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(copy)} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${quoteIdent(copy)} TEMPLATE ${quoteIdent(template)}`);
  } finally {
    await admin.end();
  }
  return server.url(copy);
}

export async function dropDatabase(server: BenchServer, db: string): Promise<void> {
  const admin = new pg.Client({ connectionString: server.url("postgres") });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(db)} WITH (FORCE)`).finally(() => admin.end());
}

export function arg(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
