import type pg from "pg";

export const EVENT_CHANNEL = "indexdeck_rollout_event";

/**
 * Every kind of rollout event, declared once: what the engine appends, and what the live page, the
 * usage markers, the metrics and the report read back. A kind not listed here does not type-check.
 */
export const EVENT_KINDS = [
  // a person's request or decision
  "created",
  "approved_by",
  "rejected",
  "phase_requested",
  "cancel_requested",
  // a job's life (lib/rollout/handlers.ts, settled by lib/rollout/machine.ts)
  "phase_start",
  "phase_error",
  "precheck_done",
  "target_busy",
  "apply_done",
  "verify_done",
  "rollback_done",
  "probe_start",
  "probe_done",
  // apply's statements (lib/rollout/apply.ts)
  "session",
  "statement_start",
  "statement_done",
  "progress",
  "task_status",
  "task_failed",
  "lock_timeout",
  "index_ready",
  "skipped_exists",
  "connection_lost",
  "cancel_sent",
  "cancelled",
  "invalid_found",
  "invalid_check_failed",
  "invalid_dropped",
  "invalid_left",
  "rollback_task",
  // a partitioned build's steps (lib/rollout/partitions.ts)
  "partitions_differ",
  "partition_start",
  "partition_ready",
  "partition_kept",
  // a takeover after the server running the apply died
  "reconcile_start",
  "reconcile_follow",
  "reconcile_task",
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export interface RolloutEvent {
  id: number;
  rolloutId: number;
  at: Date;
  kind: EventKind;
  taskSeq: number | null;
  data: Record<string, unknown>;
}

/** Appends an event and NOTIFYs listeners (every app server's SSE hub) in one statement. */
export async function appendEvent(
  db: Pick<pg.Pool, "query"> | pg.ClientBase,
  rolloutId: number,
  kind: EventKind,
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

const EVENT_COLUMNS = `id, rollout_id AS "rolloutId", at, kind, task_seq AS "taskSeq", data`;

export async function eventsAfter(db: Pick<pg.Pool, "query">, rolloutId: number, afterId: number, limit = 5000): Promise<RolloutEvent[]> {
  const { rows } = await db.query<RolloutEvent>(
    `SELECT ${EVENT_COLUMNS} FROM rollout_event
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
    `SELECT ${EVENT_COLUMNS} FROM rollout_event
    WHERE rollout_id = $1 AND kind = $2
    ORDER BY id`,
    [rolloutId, kind],
  );
  return rows;
}
