import type pg from "pg";

export interface BuildProgress {
  pid: number;
  phase: string;
  blocksTotal: number;
  blocksDone: number;
  tuplesTotal: number;
  tuplesDone: number;
  lockersTotal: number;
  lockersDone: number;
  currentLockerPid: number | null;
  waitEventType: string | null;
  waitEvent: string | null;
  blockingPids: number[];
}

/** One row per running CREATE INDEX / REINDEX of `pid`, with what its backend waits on. */
export async function buildProgress(db: pg.ClientBase, pid: number): Promise<BuildProgress | null> {
  const { rows } = await db.query<BuildProgress>({
    // Named, so a session that polls every half second parses and plans it once, not every time:
    // the build shares the target's CPU with the poller, and waits for its queries' snapshots.
    name: "indexdeck.build-progress",
    text: `SELECT
       p.pid,
       p.phase,
       p.blocks_total         AS "blocksTotal",
       p.blocks_done          AS "blocksDone",
       p.tuples_total         AS "tuplesTotal",
       p.tuples_done          AS "tuplesDone",
       p.lockers_total        AS "lockersTotal",
       p.lockers_done         AS "lockersDone",
       nullif(p.current_locker_pid, 0) AS "currentLockerPid",
       a.wait_event_type      AS "waitEventType",
       a.wait_event           AS "waitEvent",
       pg_blocking_pids(p.pid) AS "blockingPids"
     FROM pg_stat_progress_create_index p
     JOIN pg_stat_activity a ON a.pid = p.pid
    WHERE p.pid = $1`,
    values: [pid],
  });
  return rows[0] ?? null;
}

export interface BackendWait {
  waitEventType: string | null;
  waitEvent: string | null;
  blockingPids: number[];
}

/** What a backend waits on when it has no progress row yet (e.g. queued for a lock). */
export async function backendWait(db: pg.ClientBase, pid: number): Promise<BackendWait | null> {
  const { rows } = await db.query<BackendWait>({
    name: "indexdeck.backend-wait", // polled like buildProgress
    text: `SELECT
       wait_event_type        AS "waitEventType",
       wait_event             AS "waitEvent",
       pg_blocking_pids(pid)  AS "blockingPids"
     FROM pg_stat_activity
    WHERE pid = $1`,
    values: [pid],
  });
  return rows[0] ?? null;
}
