import { readFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { quoteIdent } from "../sql/quote";

const DEMO_SQL = path.join(process.cwd(), "sql", "demo");

export async function ensureDatabase(adminUrl: string, name: string): Promise<boolean> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const { rowCount } = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (rowCount) return false;
    await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
    return true;
  } finally {
    await admin.end();
  }
}

async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/**
 * Creates a ChefCloud target database with `rows` rows per table, unless a complete one exists.
 * Completion is marked by a table written last, so a generation cut short is redone from scratch.
 */
export async function ensureChefcloud(
  adminUrl: string,
  dbUrl: (db: string) => string,
  name: string,
  rows: number,
  log: (s: string) => void,
): Promise<void> {
  await ensureDatabase(adminUrl, name);
  const client = new pg.Client({ connectionString: dbUrl(name) });
  await client.connect();
  try {
    const {
      rows: [done],
    } = await client.query<{ ok: boolean }>("SELECT to_regclass('public.indexdeck_demo_meta') IS NOT NULL AS ok");
    if (done.ok) return;
  } finally {
    await client.end();
  }
  await dropDatabase(adminUrl, name);
  await ensureDatabase(adminUrl, name);
  log(`generating ${name}: ${rows.toLocaleString("en")} rows in each of 6 tables…`);
  const started = Date.now();
  const db = new pg.Client({ connectionString: dbUrl(name) });
  await db.connect();
  try {
    await db.query(await readFile(path.join(DEMO_SQL, "chefcloud_schema.sql"), "utf8"));
    await db.query("SELECT set_config('indexdeck.rows', $1, false)", [String(rows)]);
    await db.query(await readFile(path.join(DEMO_SQL, "chefcloud_data.sql"), "utf8"));
    // Where the server preloads it (the embedded one does), the probes also report pg_stat_statements' means.
    await db.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements").catch(() => undefined);
    await db.query("CREATE TABLE indexdeck_demo_meta (rows_per_table integer NOT NULL, generated_at timestamptz NOT NULL DEFAULT now())");
    await db.query("INSERT INTO indexdeck_demo_meta (rows_per_table) VALUES ($1)", [rows]);
  } finally {
    await db.end();
  }
  log(`generated ${name} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
