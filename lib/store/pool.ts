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

/** Runs fn inside one transaction on a dedicated client; rolls back on any error. */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
