import pg from "pg";
import { quoteIdent } from "../sql/quote";
import { migrate } from "./migrator";

/**
 * The store has two roles. The owner (DATABASE_OWNER_URL) runs the migrations and so owns every table,
 * trigger and function; the app's runtime role (DATABASE_URL) gets only what the app does with them.
 * Above all it cannot rewrite history (invariant 12): on audit_log it may only SELECT, it appends by
 * INSERT into audit_pending (linked into the chain by the owner's SECURITY DEFINER trigger), and as a
 * non-owner it can neither ALTER the tables nor DISABLE their triggers.
 */
export async function grantRuntimeRole(owner: pg.ClientBase, role: string): Promise<void> {
  const r = quoteIdent(role);
  // From nothing each time, so a right granted by hand or by an older version does not linger.
  await owner.query(`
    REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${r};
    REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM ${r};
    REVOKE CREATE ON SCHEMA public FROM ${r};
    GRANT USAGE ON SCHEMA public TO ${r};
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${r};
    GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${r};
    REVOKE INSERT, UPDATE, DELETE ON audit_log, schema_migration FROM ${r};
    REVOKE SELECT, UPDATE, DELETE ON audit_pending FROM ${r};
    REVOKE ALL ON SEQUENCE audit_log_id_seq FROM ${r};`);
}

/** The user name a connection string signs in as (libpq's default, the OS user, is not guessed at). */
export function roleOf(url: string): string | null {
  const user = decodeURIComponent(new URL(url).username);
  return user || null;
}

export interface StoreUrls {
  /** The app's runtime role: DATABASE_URL. */
  runtime: string;
  /** The owner that migrates: DATABASE_OWNER_URL, or the runtime URL itself in a one-role setup. */
  owner?: string;
}

/**
 * Applies the migrations as the owner and then grants the runtime role exactly its rights. With one
 * role for both (no owner URL, or the same user) the app owns its tables and can rewrite audit_log:
 * `separated` false says so, for the caller to warn.
 */
export async function migrateStore(urls: StoreUrls): Promise<{ applied: string[]; separated: boolean }> {
  const owner = new pg.Client({ connectionString: urls.owner ?? urls.runtime, connectionTimeoutMillis: 10_000 });
  try {
    await owner.connect();
  } catch (err) {
    throw new Error(`cannot reach the store named by ${urls.owner ? "DATABASE_OWNER_URL" : "DATABASE_URL"}: ${(err as Error).message}`);
  }
  try {
    const { applied } = await migrate(owner);
    const runtime = roleOf(urls.runtime);
    const {
      rows: [me],
    } = await owner.query<{ user: string }>("SELECT current_user AS user");
    const separated = !!urls.owner && runtime !== null && runtime !== me.user;
    if (separated) {
      // Under the migrations' lock: app servers starting together would otherwise grant on the same
      // objects at once, and PostgreSQL answers the loser with "tuple concurrently updated".
      await owner.query("SELECT pg_advisory_lock(hashtext('indexdeck.migrate'))");
      try {
        await grantRuntimeRole(owner, runtime!);
      } finally {
        await owner.query("SELECT pg_advisory_unlock(hashtext('indexdeck.migrate'))");
      }
    }
    return { applied, separated };
  } finally {
    await owner.end();
  }
}

export function storeUrlsFromEnv(env: NodeJS.ProcessEnv = process.env): StoreUrls {
  if (!env.DATABASE_URL) throw new Error("DATABASE_URL is not set: it must name indexdeck's store database (npm run demo sets it for you)");
  return { runtime: env.DATABASE_URL, owner: env.DATABASE_OWNER_URL || undefined };
}

/** Said once at start when the app's own role owns the store: the audit log is then only as safe as that role. */
export const ONE_ROLE_WARNING =
  "indexdeck: DATABASE_OWNER_URL is not set (or names the same role as DATABASE_URL), so the app's role owns the store and could rewrite the audit log; see README, Pointing it at real databases";
