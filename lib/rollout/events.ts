import type pg from "pg";
import type { FailureCode } from "../text/troubleshooting";
import type { SeenSession } from "../auth/blockers";
import type { TaskPatch, TaskStatus } from "./apply";
import type { PauseReason } from "./pacing";
import type { SessionEvidence } from "./session";

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
  // a job's life (lib/rollout/run-phase.ts and lib/rollout/phases/, settled by lib/rollout/machine.ts)
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
  // a target's pacing holding the next statement back (lib/rollout/pacing.ts)
  "paused",
  "resumed",
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

/** One build's progress as the poller read it from pg_stat_progress_create_index and pg_stat_activity. */
export interface ProgressData {
  index: string | null;
  /** PostgreSQL's phase name, or the poller's "waiting for lock" / "starting" before the progress row exists. */
  phase: string;
  percent: number;
  blocksDone: number;
  blocksTotal: number;
  tuplesDone: number;
  tuplesTotal: number;
  lockersDone: number;
  lockersTotal: number;
  currentLockerPid: number | null;
  waitEventType: string | null;
  waitEvent: string | null;
  /** The sessions holding the build back; their query text only where the reader may see it (lib/auth/blockers.ts). */
  blockers: SeenSession[];
  /** A partitioned build's step (lib/rollout/partitions.ts): its partition, that step's percent; `percent` is the whole's. */
  partition?: string;
  partitionPercent?: number;
}

/** Where in a partitioned build's expanded plan an event happened (lib/rollout/partitions.ts). */
export interface PartitionStepData {
  step: number;
  steps?: number;
  kind: string;
  schema: string;
  index: string;
  table: string;
}

/** What reconcile saw on the target of a build no server watched end (Dates when written, strings when read back). */
export interface SeenOnTarget {
  queryStart: Date | string | null;
  lastSeenRunningAt: Date | string | null;
  goneBy: Date | string;
}

/**
 * Every kind of rollout event and the data it carries: the one declaration writers (appendEvent, the
 * apply sinks) and readers (the live page, the report, the timeline) are checked against.
 */
export interface EventData {
  created: { by: string; state: string };
  approved_by: { by: string; approvals: number; required: number };
  rejected: { by: string };
  phase_requested: { phase: string; by: string };
  cancel_requested: { by: string };
  phase_start: { phase: string; attempt: number; reclaimed: boolean; lostWorker: string | null; lastHeartbeatAt: Date | string | null };
  phase_error: { phase: string; error: string; code: string | null };
  precheck_done: { ok: boolean };
  target_busy: { error: string };
  session: { pid: number; applicationName: string } & SessionEvidence;
  statement_start: { line: number; statement: string; attempt: number; partitions?: string[]; steps?: number };
  statement_done: { line: number; statement: string };
  skipped_exists: { index: string | null; definition: string | null };
  invalid_found: { index: string | null; reason: string };
  invalid_dropped: { index: string | null; reason?: string; seen?: SeenOnTarget; partition?: string };
  invalid_left: { index: string | null; error: string };
  invalid_check_failed: { index: string | null; message: string };
  /** `partitions`: how many partitions' indexes a partitioned build attached. */
  index_ready: { index: string | null; bytes: number | null; definition: string | null; seen?: SeenOnTarget; partitions?: number };
  lock_timeout: { attempt: number; message: string; blockers: SeenSession[] };
  connection_lost: { message: string };
  task_failed: { error: string; advice: string; code: FailureCode | null };
  cancelled: { step?: number };
  progress: ProgressData;
  cancel_sent: { pid: number; delivered: boolean };
  task_status: { status: TaskStatus; error: string | null };
  apply_done: { ok: boolean; state: string; error: string | null; advice: string | null };
  reconcile_start: { applicationName: string };
  reconcile_follow: {
    pid: number;
    state: string | null;
    phase: string | null;
    percent: number | null;
    queryStart: Date | string | null;
    observedAt: Date | string;
  };
  reconcile_task: { index: string | null; outcome: string; seen?: SeenOnTarget; partition?: string | null };
  partitions_differ: { error: string };
  partition_start: PartitionStepData & { line: number; statement: string; attempt: number };
  partition_ready: PartitionStepData & { line?: number; statement?: string; bytes?: number | null; definition?: string | null };
  partition_kept: PartitionStepData;
  verify_done: { ok: boolean };
  probe_start: { phase: "before" | "after"; workloads: number };
  probe_done: {
    phase: "before" | "after";
    results: Array<{ workload: string; p95Ms: number | null; samples: number; samplesWanted: number; budgetCut: boolean; errors: number }>;
  };
  rollback_task: TaskPatch & { step: number };
  paused: { line: number; reasons: PauseReason[] };
  resumed: { line: number; pausedSeconds: number };
  rollback_done: { ok: boolean; dropped: Array<string | null> };
}

// EventData declares the data of exactly the kinds in EVENT_KINDS: a kind without its data (or data for no kind) fails to compile.
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
export type EventDataCoversEveryKind = Assert<Exact<keyof EventData, EventKind>>;

/** A stored event; narrowing on `kind` types its `data`. `at` is a Date from the store, an ISO string over the wire. */
export type RolloutEvent<K extends EventKind = EventKind, At = Date> = {
  [P in K]: { id: number; rolloutId: number; at: At; kind: P; taskSeq: number | null; data: EventData[P] };
}[K];

/** Appends an event and NOTIFYs listeners (every app server's SSE hub) in one statement. */
export async function appendEvent<K extends EventKind>(
  db: Pick<pg.Pool, "query"> | pg.ClientBase,
  rolloutId: number,
  kind: K,
  data: EventData[K],
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
export async function eventsOfKind<K extends EventKind>(
  db: Pick<pg.Pool, "query">,
  rolloutId: number,
  kind: K,
): Promise<RolloutEvent<K>[]> {
  const { rows } = await db.query<RolloutEvent<K>>(
    `SELECT ${EVENT_COLUMNS} FROM rollout_event
    WHERE rollout_id = $1 AND kind = $2
    ORDER BY id`,
    [rolloutId, kind],
  );
  return rows;
}
