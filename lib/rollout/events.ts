import type pg from "pg";

export const EVENT_CHANNEL = "indexdeck_rollout_event";

export interface RolloutEvent {
  id: number;
  rolloutId: number;
  at: Date;
  kind: string;
  taskSeq: number | null;
  data: Record<string, unknown>;
}

/** Appends an event and NOTIFYs listeners (every app server's SSE hub) in one statement. */
export async function appendEvent(
  db: Pick<pg.Pool, "query"> | pg.ClientBase,
  rolloutId: number,
  kind: string,
  data: Record<string, unknown> = {},
  taskSeq: number | null = null,
): Promise<number> {
  const {
    rows: [row],
  } = await db.query<{ id: number }>(
    `WITH e AS (
       INSERT INTO rollout_event (rollout_id, kind, task_seq, data)
       VALUES ($1, $2, $3, $4)
       RETURNING id, rollout_id
     )
     SELECT e.id, pg_notify($5, e.rollout_id || ':' || e.id) FROM e`,
    [rolloutId, kind, taskSeq, data, EVENT_CHANNEL],
  );
  return row.id;
}

export async function eventsAfter(db: Pick<pg.Pool, "query">, rolloutId: number, afterId: number, limit = 5000): Promise<RolloutEvent[]> {
  const { rows } = await db.query<RolloutEvent>(
    `SELECT
       id,
       rollout_id AS "rolloutId",
       at,
       kind,
       task_seq   AS "taskSeq",
       data
     FROM rollout_event
    WHERE rollout_id = $1 AND id > $2
    ORDER BY id
    LIMIT $3`,
    [rolloutId, afterId, limit],
  );
  return rows;
}

/** Every event of one kind for a rollout, oldest first: the record later phases read decisions from (by kind and data, never text). */
export async function eventsOfKind(db: Pick<pg.Pool, "query">, rolloutId: number, kind: string): Promise<RolloutEvent[]> {
  const { rows } = await db.query<RolloutEvent>(
    `SELECT
       id,
       rollout_id AS "rolloutId",
       at,
       kind,
       task_seq   AS "taskSeq",
       data
     FROM rollout_event
    WHERE rollout_id = $1 AND kind = $2
    ORDER BY id`,
    [rolloutId, kind],
  );
  return rows;
}
