import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type pg from "pg";

export const APP_MIGRATIONS_DIR = path.join(process.cwd(), "sql", "app");
const FILE_PATTERN = /^(\d{3})_[a-z0-9_]+\.sql$/;

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export class MigrationError extends Error {}

export async function readMigrations(dir = APP_MIGRATIONS_DIR): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith(".sql")).sort();
  const migrations: Migration[] = [];
  for (const name of names) {
    const match = FILE_PATTERN.exec(name);
    if (!match) throw new MigrationError(`${path.join(dir, name)}: migration files must be named NNN_snake_case.sql`);
    const sql = await readFile(path.join(dir, name), "utf8");
    const version = Number(match[1]);
    if (migrations.some((m) => m.version === version))
      throw new MigrationError(`${path.join(dir, name)}: version ${match[1]} is used twice`);
    migrations.push({ version, name, sql, checksum: createHash("sha256").update(sql).digest("hex") });
  }
  return migrations;
}

/**
 * Applies pending migrations in order, each in its own transaction, under an advisory lock so that
 * several app servers starting at once apply each file exactly once. Refuses to run when a file that
 * was already applied has changed since: the store would no longer match the code that reads it.
 */
export async function migrate(client: pg.ClientBase, dir = APP_MIGRATIONS_DIR): Promise<{ applied: string[] }> {
  const migrations = await readMigrations(dir);
  await client.query("SELECT pg_advisory_lock(hashtext('indexdeck.migrate'))");
  try {
    await client.query(`
      CREATE TABLE IF NOT EXISTS schema_migration (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        checksum   text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const { rows } = await client.query<{ version: number; name: string; checksum: string }>(
      "SELECT version, name, checksum FROM schema_migration ORDER BY version",
    );
    const known = new Map(migrations.map((m) => [m.version, m]));
    for (const row of rows) {
      const file = known.get(row.version);
      if (!file) throw new MigrationError(`store has migration ${row.name} applied, but ${dir} has no file for version ${row.version}`);
      if (file.checksum !== row.checksum) {
        throw new MigrationError(
          `${path.join(dir, file.name)} was edited after it was applied (checksum ${file.checksum.slice(0, 12)} ≠ applied ${row.checksum.slice(0, 12)}); add a new migration instead`,
        );
      }
    }
    const done = new Set(rows.map((r) => r.version));
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await client.query("BEGIN");
      try {
        await client.query(m.sql);
        await client.query("INSERT INTO schema_migration (version, name, checksum) VALUES ($1, $2, $3)", [m.version, m.name, m.checksum]);
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK");
        throw new MigrationError(`${path.join(dir, m.name)}: ${(err as Error).message}`);
      }
      applied.push(m.name);
    }
    return { applied };
  } finally {
    await client.query("SELECT pg_advisory_unlock(hashtext('indexdeck.migrate'))");
  }
}
