import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, inject } from "vitest";
import { quoteIdent } from "../sql/quote";
import { closeStorePools } from "../store/pool";

export interface PgServer {
  name: string;
  adminUrl: string;
}

/** The real PostgreSQL servers this run has: the embedded one, and the system one when reachable. */
export function pgServers(): PgServer[] {
  return inject("pgServers");
}

export function databaseUrl(server: PgServer, db: string): string {
  const u = new URL(server.adminUrl);
  u.pathname = `/${db}`;
  return u.toString();
}

const created: Array<{ server: PgServer; name: string }> = [];
const roles: Array<{ server: PgServer; name: string }> = [];

async function admin<T>(server: PgServer, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: server.adminUrl });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A fresh database for this test file: a migrated store copy by default, or empty. Dropped after the file. */
export async function freshDatabase(server: PgServer, kind: "store" | "empty" = "store"): Promise<string> {
  const name = `t_${randomBytes(6).toString("hex")}`;
  await admin(server, (c) =>
    c.query(`CREATE DATABASE ${quoteIdent(name)}${kind === "store" ? ` TEMPLATE ${quoteIdent(inject("pgTemplate"))}` : ""}`),
  );
  created.push({ server, name });
  return databaseUrl(server, name);
}

/**
 * A login role with no privileges beyond PUBLIC's, for tests of what a limited role meets; `url`
 * connects to a database as it. Dropped after the file, once its databases are gone.
 */
export async function freshRole(server: PgServer): Promise<{ name: string; url(databaseUrl: string): string }> {
  const name = `r_${randomBytes(5).toString("hex")}`;
  const password = randomBytes(12).toString("hex");
  await admin(server, (c) => c.query(`CREATE ROLE ${quoteIdent(name)} LOGIN PASSWORD '${password}'`));
  roles.push({ server, name });
  return { name, url: (db) => Object.assign(new URL(db), { username: name, password }).toString() };
}

// Each DROP DATABASE waits for a checkpoint, which on a server busy with other writes can take
// minutes: the drops run at once (concurrent requests share checkpoints) and the hook waits long.
afterAll(async () => {
  await closeStorePools();
  await Promise.all(
    created
      .splice(0)
      .map(({ server, name }) =>
        admin(server, (c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`)).catch(() => undefined),
      ),
  );
  for (const { server, name } of roles.splice(0)) {
    await admin(server, (c) => c.query(`DROP ROLE IF EXISTS ${quoteIdent(name)}`)).catch(() => undefined);
  }
}, 600_000);
