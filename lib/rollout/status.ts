import type pg from "pg";
import * as z from "zod";
import { listApprovals, type Approval } from "./approvals";
import { ROLLOUT_STATES, type RolloutState } from "./machine";
import { getRollout, rolloutTasks } from "./rollouts";

/**
 * A rollout as a script following it sees it (GET /api/rollouts/ID): its state, each statement's
 * status and progress, the approvals, and the last error with its code where it has one. No SQL
 * text beyond each statement, no blocking sessions' query text (that is for some roles only, on the
 * page), nothing a role allowed to read rollouts may not see.
 */
export interface RolloutStatus {
  id: number;
  state: RolloutState;
  targetId: string;
  environment: "staging" | "production";
  changeset: { id: string; name: string; sha256: string };
  requestedBy: string;
  approvalsRequired: number;
  cancelRequested: boolean;
  createdAt: Date;
  updatedAt: Date;
  approvals: Array<Pick<Approval, "approver" | "approverRole" | "decision" | "comment" | "changesetSha256" | "createdAt">>;
  tasks: Array<{
    seq: number;
    kind: string;
    statement: string;
    indexName: string | null;
    status: string;
    attempts: number;
    startedAt: Date | null;
    finishedAt: Date | null;
    error: string | null;
    /** The build's last reported phase (PostgreSQL's own name) and percent; 100 once done. */
    progress: { phase: string | null; percent: number };
  }>;
  /** The newest phase error (code: e.g. sha256_mismatch, approvals_missing; null when it has none), else the rollout's error. */
  lastError: { message: string; code: string | null; phase: string | null; at: Date | null } | null;
}

const FINISHED_TASK = new Set(["done", "skipped_exists"]);

export async function rolloutStatus(db: Pick<pg.Pool, "query">, id: number): Promise<RolloutStatus | null> {
  const rollout = await getRollout(db, id);
  if (!rollout) return null;
  const [tasks, approvals, progress, lastError] = await Promise.all([
    rolloutTasks(db, id),
    listApprovals(db, id),
    db.query<{ seq: number; phase: string | null; percent: number | null }>(
      `SELECT DISTINCT ON (task_seq)
              task_seq                        AS seq,
              data->>'phase'                  AS phase,
              (data->>'percent')::float8      AS percent
         FROM rollout_event
        WHERE rollout_id = $1 AND kind = 'progress' AND task_seq IS NOT NULL
        ORDER BY task_seq, id DESC`,
      [id],
    ),
    db.query<{ message: string; code: string | null; phase: string | null; at: Date }>(
      `SELECT data->>'error' AS message,
              data->>'code'  AS code,
              data->>'phase' AS phase,
              at
         FROM rollout_event
        WHERE rollout_id = $1 AND kind = 'phase_error'
        ORDER BY id DESC
        LIMIT 1`,
      [id],
    ),
  ]);
  const progressOf = new Map(progress.rows.map((p) => [p.seq, p]));
  const [phaseError] = lastError.rows;
  return {
    id: rollout.id,
    state: rollout.state,
    targetId: rollout.targetId,
    environment: rollout.environment,
    changeset: { id: rollout.changesetId, name: rollout.changesetName, sha256: rollout.changesetSha256 },
    requestedBy: rollout.requestedBy,
    approvalsRequired: rollout.approvalsRequired,
    cancelRequested: rollout.cancelRequested,
    createdAt: rollout.createdAt,
    updatedAt: rollout.updatedAt,
    approvals: approvals.map(({ approver, approverRole, decision, comment, changesetSha256, createdAt }) => ({
      approver,
      approverRole,
      decision,
      comment,
      changesetSha256,
      createdAt,
    })),
    tasks: tasks.map((t) => {
      const p = progressOf.get(t.seq);
      return {
        seq: t.seq,
        kind: t.kind,
        statement: t.statement,
        indexName: t.indexName,
        status: t.status,
        attempts: t.attempts,
        startedAt: t.startedAt,
        finishedAt: t.finishedAt,
        error: t.error,
        progress: FINISHED_TASK.has(t.status)
          ? { phase: p?.phase ?? null, percent: 100 }
          : { phase: p?.phase ?? null, percent: p?.percent ?? 0 },
      };
    }),
    lastError: phaseError
      ? { message: phaseError.message, code: phaseError.code, phase: phaseError.phase, at: phaseError.at }
      : rollout.error
        ? { message: rollout.error, code: rollout.errorCode, phase: null, at: null }
        : null,
  };
}

/** GET /api/rollouts's query: both filters optional; a value that isn't one is a 400 naming it. */
export const RolloutQuery = z
  .object({
    target: z.string().min(1, "target is empty").max(63, "target is longer than 63 characters").optional(),
    state: z.enum(ROLLOUT_STATES, { message: `state must be one of ${ROLLOUT_STATES.join(", ")}` }).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();

export interface RolloutSummary {
  id: number;
  state: RolloutState;
  targetId: string;
  environment: "staging" | "production";
  changesetName: string;
  changesetSha256: string;
  requestedBy: string;
  createdAt: Date;
  updatedAt: Date;
}

/** Rollouts, newest first, of one target and/or in one state. */
export async function findRollouts(db: Pick<pg.Pool, "query">, q: z.infer<typeof RolloutQuery>): Promise<RolloutSummary[]> {
  const { rows } = await db.query<RolloutSummary>(
    `SELECT id,
            state,
            target_id        AS "targetId",
            environment,
            changeset_name   AS "changesetName",
            changeset_sha256 AS "changesetSha256",
            requested_by     AS "requestedBy",
            created_at       AS "createdAt",
            updated_at       AS "updatedAt"
       FROM rollout
      WHERE ($1::text IS NULL OR target_id = $1)
        AND ($2::text IS NULL OR state = $2)
      ORDER BY id DESC
      LIMIT $3`,
    [q.target ?? null, q.state ?? null, q.limit],
  );
  return rows;
}
