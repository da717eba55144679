/**
 * testing/ — what the tests share: the embedded PostgreSQL they start, store and target fixtures.
 */
import path from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { startEmbedded } from "../demo/embedded";
import { migrate } from "../store/migrator";
import { quoteIdent } from "../sql/quote";

// Per run, so two test runs sharing the system PostgreSQL never drop each other's template.
const TEMPLATE_DB = `indexdeck_test_template_${process.pid}`;
const SYSTEM_PG = process.env.INDEXDECK_TEST_SYSTEM_PG ?? "postgres://postgres@127.0.0.1:5432/postgres";

async function reachable(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}

/** A migrated store database to copy: CREATE DATABASE ... TEMPLATE is far faster than migrating per test file. */
async function createTemplate(adminUrl: string, dbUrl: (db: string) => string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(TEMPLATE_DB)} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${quoteIdent(TEMPLATE_DB)}`);
  } finally {
    await admin.end();
  }
  const db = new pg.Client({ connectionString: dbUrl(TEMPLATE_DB) });
  await db.connect();
  try {
    await migrate(db);
  } finally {
    await db.end();
  }
}

/**
 * Starts the embedded PostgreSQL (as `npm run demo` does) and, when reachable, uses the system
 * PostgreSQL too, so every integration test runs on both majors. Test files read the servers
 * through inject("pgServers").
 */
export default async function setup(project: TestProject) {
  const embedded = await startEmbedded(path.resolve(".indexdeck-test"));
  const servers: Array<{ name: string; adminUrl: string }> = [{ name: "embedded", adminUrl: embedded.url("postgres") }];
  await createTemplate(embedded.url("postgres"), embedded.url);
  if (process.env.INDEXDECK_TEST_SKIP_SYSTEM_PG !== "1" && (await reachable(SYSTEM_PG))) {
    const base = new URL(SYSTEM_PG);
    await createTemplate(SYSTEM_PG, (db) => Object.assign(new URL(base), { pathname: `/${db}` }).toString());
    servers.push({ name: "system", adminUrl: SYSTEM_PG });
  }
  project.provide("pgServers", servers);
  project.provide("pgTemplate", TEMPLATE_DB);
  return async () => {
    if (servers[1]) {
      const admin = new pg.Client({ connectionString: SYSTEM_PG });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(TEMPLATE_DB)} WITH (FORCE)`).finally(() => admin.end());
    }
    await embedded.stop();
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    pgServers: Array<{ name: string; adminUrl: string }>;
    pgTemplate: string;
  }
}
