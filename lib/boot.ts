import pg from "pg";
import { loadTargets } from "./targets/config";
import { retentionFromEnv } from "./monitor/collector";
import { requireAuditKey } from "./audit/key";
import { migrateStore, ONE_ROLE_WARNING, storeUrlsFromEnv } from "./store/roles";
import { startJobRunner, startUsageCollector } from "./server";

/**
 * What the web server checks before serving: its settings are present and well-formed, the targets
 * file parses, and the store schema is current. Any failure stops the server with a message that
 * names the file or variable at fault.
 */
export async function boot(): Promise<void> {
  const storeUrls = storeUrlsFromEnv();
  if (!process.env.NEXTAUTH_SECRET) throw new Error("NEXTAUTH_SECRET is not set: sessions cannot be signed (npm run demo generates one in .indexdeck/)");
  const targets = loadTargets();
  retentionFromEnv(); // a malformed INDEXDECK_RETENTION stops the start, not the first collection
  requireAuditKey(); // every audit row is signed with it: a server without it could record nothing
  // Migrated as the owner (DATABASE_OWNER_URL); the app's own role (DATABASE_URL) gets only its rights.
  const { separated } = await migrateStore(storeUrls);
  if (!separated) console.warn(ONE_ROLE_WARNING);
  const store = new pg.Client({ connectionString: storeUrls.runtime, connectionTimeoutMillis: 10_000 });
  try {
    await store.connect();
  } catch (err) {
    throw new Error(`cannot reach the store named by DATABASE_URL: ${(err as Error).message}`);
  }
  await store.end();
  startJobRunner();
  startUsageCollector();
  console.log(`indexdeck: store ready, ${targets.length} target(s) configured, job runner started`);
}

/** For the web server's start: a server that cannot boot must not serve half-configured. */
export async function bootOrExit(): Promise<void> {
  try {
    await boot();
  } catch (err) {
    console.error(`indexdeck cannot start:\n${(err as Error).message}`);
    process.exit(1);
  }
}
