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

/** Runs fn inside one transaction on a dedicated client; rolls back on any error. */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  flushAfterCommit.delete(client);
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query(flushAfterCommit.has(client) ? COMMIT_THEN_FLUSH : "COMMIT");
    return result;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    flushAfterCommit.delete(client);
    client.release();
  }
}
