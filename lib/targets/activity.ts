import type pg from "pg";

export interface SessionInfo {
  pid: number;
  user: string | null;
  application: string;
  state: string | null;
  xactAgeSeconds: number | null;
  query: string;
}

const SESSION_COLUMNS = `
  pid,
  usename::text                                        AS "user",
  application_name                                     AS application,
  state,
  extract(epoch FROM clock_timestamp() - xact_start)::float8 AS "xactAgeSeconds",
  left(query, 500)                                     AS query`;

export async function sessionsByPid(db: pg.ClientBase, pids: number[]): Promise<SessionInfo[]> {
  if (pids.length === 0) return [];
  const { rows } = await db.query<SessionInfo>(`SELECT ${SESSION_COLUMNS} FROM pg_stat_activity WHERE pid = ANY($1::int[]) ORDER BY pid`, [
    pids,
  ]);
  return rows;
}

/** Sessions whose transaction or snapshot is older than `seconds`: they stall concurrent builds. */
export async function oldTransactions(db: pg.ClientBase, seconds: number): Promise<SessionInfo[]> {
  const { rows } = await db.query<SessionInfo>(
    `SELECT ${SESSION_COLUMNS}
       FROM pg_stat_activity
      WHERE pid <> pg_backend_pid()
        AND (backend_xmin IS NOT NULL OR backend_xid IS NOT NULL)
        AND xact_start < clock_timestamp() - make_interval(secs => $1)
      ORDER BY xact_start`,
    [seconds],
  );
  return rows;
}

/** A session of indexdeck's found after a restart, with when its current statement began (the target's clock). */
export interface OrphanedSession extends SessionInfo {
  queryStart: Date | null;
}

/**
 * indexdeck's own sessions for a rollout, found by application_name in the target's database (another
 * database of the cluster may be another store's target, with its own rollout of the same id; used to
 * reconcile after a restart), and the target's clock when it looked: while no server watched, the target's clock is the only witness
 * of when a build still running began and, by the first look that no longer finds it, when it ended.
 */
export async function sessionsOfApplication(
  db: pg.ClientBase,
  application: string,
): Promise<{ observedAt: Date; sessions: OrphanedSession[] }> {
  const { rows } = await db.query<OrphanedSession & { observedAt: Date }>(
    `SELECT looked.at       AS "observedAt",
            ${SESSION_COLUMNS},
            query_start     AS "queryStart"
       FROM (SELECT clock_timestamp() AS at) looked
       LEFT JOIN pg_stat_activity
         ON application_name = $1
        AND datname = current_database()
        AND pid <> pg_backend_pid()`,
    [application],
  );
  return {
    observedAt: rows[0].observedAt,
    sessions: rows.filter((r) => r.pid !== null),
  };
}

/** Cancels a backend only if it is still the one indexdeck started (same pid and application_name). */
export async function cancelOwnBackend(db: pg.ClientBase, pid: number, application: string): Promise<boolean> {
  const { rows } = await db.query<{ cancelled: boolean }>(
    `SELECT pg_cancel_backend(pid) AS cancelled FROM pg_stat_activity WHERE pid = $1 AND application_name = $2`,
    [pid, application],
  );
  return rows[0]?.cancelled ?? false;
}
