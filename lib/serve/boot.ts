/**
 * serve/ — one app server process: what it checks before serving (boot), the background work it
 * starts (background.ts), its workers, its in-process caches.
 */
import pg from "pg";
import { retentionFromEnv } from "../monitor/collector";
import { requireAuditKey } from "../audit/key";
import { trustedProxies } from "../auth/client-address";
import { sessionLifetimeMs } from "../auth/sessions";
import { migrateStore, ONE_ROLE_WARNING, storeUrlsFromEnv } from "../store/roles";
import { redactConnectionSecrets } from "../targets/display";
import { startDeliveryRunner, startJobRunner, startUsageCollector } from "./background";
import { fileTargets } from "../targets/source";

/**
 * What the web server checks before serving: its settings are present and well-formed, the targets
 * file parses, and the store schema is current. Any failure stops the server with a message that
 * names the file or variable at fault.
 */
export async function boot(): Promise<void> {
  const storeUrls = storeUrlsFromEnv();
  const storeUrl = storeUrls.runtime;
  requireSessionSettings();
  const targets = await fileTargets()();
  retentionFromEnv(); // a malformed INDEXDECK_RETENTION stops the start, not the first collection
  sessionLifetimeMs(); // likewise INDEXDECK_SESSION_HOURS and INDEXDECK_TRUSTED_PROXIES, not the first sign-in
  trustedProxies();
  requireAuditKey(); // every audit row is signed with it: a server without it could record nothing
  // Migrated as the owner (DATABASE_OWNER_URL); the app's own role (DATABASE_URL) gets only its rights.
  const { separated } = await migrateStore(storeUrls);
  if (!separated) console.warn(ONE_ROLE_WARNING);
  const store = new pg.Client({ connectionString: storeUrl, connectionTimeoutMillis: 10_000 });
  try {
    await store.connect();
  } catch (err) {
    throw new Error(`cannot reach the store named by DATABASE_URL: ${redactConnectionSecrets((err as Error).message, storeUrl)}`);
  }
  await store.end();
  startJobRunner();
  startDeliveryRunner();
  startUsageCollector();
  console.log(`indexdeck: store ready, ${targets.length} target(s) configured, job runner started`);
}

// HS256/A256GCM keys are derived from the secret: fewer than 32 bytes of it is a key an attacker can
// search, and with it forge a session cookie for any user and role.
const MIN_SECRET_BYTES = 32;

/**
 * The session settings next-auth would otherwise only complain about at the first sign-in, or not at
 * all: a secret long enough to sign with, and the public URL, which decides the app's origin (the
 * cross-site check), Secure cookies (https) and where sign-in redirects go.
 */
function requireSessionSettings(): void {
  const secret = process.env.NEXTAUTH_SECRET;
  if (!secret) throw new Error("NEXTAUTH_SECRET is not set: sessions cannot be signed (npm run demo generates one in .indexdeck/)");
  const bytes = Buffer.byteLength(secret, "utf8");
  if (bytes < MIN_SECRET_BYTES) {
    throw new Error(`NEXTAUTH_SECRET is ${bytes} bytes long: it must be at least ${MIN_SECRET_BYTES} (e.g. openssl rand -base64 32)`);
  }
  const url = process.env.NEXTAUTH_URL;
  if (!url) throw new Error("NEXTAUTH_URL is not set: it must be the app's public URL, e.g. https://indexdeck.example.com");
  let protocol = "";
  try {
    protocol = new URL(url).protocol;
  } catch {
    // reported below
  }
  if (protocol !== "http:" && protocol !== "https:") throw new Error(`NEXTAUTH_URL is not an http:// or https:// URL: ${url}`);
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
