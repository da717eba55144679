/**
 * store/ — indexdeck's own PostgreSQL: the pool, the migrator of sql/app/, the two roles.
 */
import pg from "pg";

// int8 (bigint) ids and counters come back as strings by default; our ids stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

const pools = new Map<string, pg.Pool>();

/** One pool per store URL for the whole process: the web app, the CLI and tests share this module. */
export function storePool(url = requireStoreUrl()): pg.Pool {
  let pool = pools.get(url);
  if (!pool) {
    pool = new pg.Pool({ connectionString: url, max: 10, application_name: "indexdeck:store" });
    pool.on("error", (err) => console.error("indexdeck store pool error:", err.message));
    pools.set(url, pool);
  }
  return pool;
}

export function requireStoreUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set: it must name indexdeck's store database (npm run demo sets it for you)");
  return url;
}

export async function closeStorePools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((p) => p.end()));
}

export type Queryable = Pick<pg.Pool, "query"> | pg.PoolClient | pg.Client;

const flushAfterCommit = new WeakSet<pg.ClientBase>();

/**
 * Marks the open transaction as one that holds a lock every writer queues on until its commit ends
 * (the audit chain's). A synchronous commit holds such a lock across its WAL flush, so writers queue
 * one flush each; this one commits without waiting for the flush, which releases the lock as soon as
 * the commit record is written, and then waits for a flush in a second transaction before
 * withTransaction returns. The caller is answered only once its commit is durable, as before. What
 * changes: for that millisecond others can see a commit a crash would still take back, and a crash
 * takes back only a tail of the WAL, so the chain it leaves never skips a link.
 */
export function flushAfterCommitting(tx: pg.ClientBase): void {
  flushAfterCommit.add(tx);
}

// One round trip. The SET LOCAL ends with the COMMIT, so the SELECT commits synchronously: its
// transaction writes WAL (a logical message, callable without privileges and decoded by nobody), and
// a synchronous commit flushes the WAL up to its own record, the one before it included. An error in
// the COMMIT skips the rest of the string.
const COMMIT_THEN_FLUSH = "SET LOCAL synchronous_commit = off; COMMIT; SELECT pg_logical_emit_message(true, 'indexdeck', '')";

const emitAllowed = new WeakMap<pg.Pool, Promise<boolean>>();

// A store whose role may not call pg_logical_emit_message (some managed services revoke it) would
// commit the change and then fail the flush, reporting an error for a change that happened: there,
// audit commits stay synchronous. Asked once per pool, on the transaction's own connection (a pool
// of one has no other), from the catalog, so no outcome can abort the transaction. PostgreSQL 17
// added a fourth argument with a default; the call below resolves to the text variant either way.
function canFlushAfterCommit(pool: pg.Pool, client: pg.PoolClient): Promise<boolean> {
  let allowed = emitAllowed.get(pool);
  if (!allowed) {
    allowed = client
      .query<{ ok: boolean }>(
        `SELECT coalesce(bool_or(has_function_privilege(oid, 'EXECUTE')), false) AS ok
         FROM pg_catalog.pg_proc
        WHERE proname = 'pg_logical_emit_message' AND pronamespace = 'pg_catalog'::regnamespace
          AND proargtypes[0] = 'boolean'::regtype AND proargtypes[2] = 'text'::regtype`,
      )
      .then(
        (r) => r.rows[0]?.ok === true,
        () => false,
      );
    emitAllowed.set(pool, allowed);
  }
  return allowed;
}

/** Runs fn inside one transaction on a dedicated client; rolls back on any error. */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  flushAfterCommit.delete(client);
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    const flushAfter = flushAfterCommit.has(client) && (await canFlushAfterCommit(pool, client));
    await client.query(flushAfter ? COMMIT_THEN_FLUSH : "COMMIT");
    return result;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    flushAfterCommit.delete(client);
    client.release();
  }
}

/** A one-off session to `url` for `fn`, closed afterwards whatever happens (setup and admin work, not the app's reads). */
export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}
