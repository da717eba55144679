import type pg from "pg";
import * as z from "zod";
import { appendAudit, auditActor } from "../audit/log";
import { authorizeTarget, type Actor } from "../auth/policy";
import { checkWorkloads, getChangeSet } from "../changeset/store";
import { lintText } from "../changeset/lint";
import { withTransaction } from "../store/pool";
import { findTarget } from "../targets/config";
import { sessionLimits } from "../targets/limits";
import type { FailureCode } from "../text/troubleshooting";
import type { TaskStatus } from "./apply";
import { appendEvent } from "./events";
import { initialState, type RolloutState } from "./machine";
import { planChangeSet, PlanError } from "./plan";
import { WorkloadError } from "./workloads";
import { announceRollout } from "../webhooks/notify";
import type { TargetSource } from "../targets/source";

export interface Rollout {
  id: number;
  changesetId: string;
  changesetName: string;
  changesetSha256: string;
  changesetSql: string;
  /** The query patterns approved with the SQL: verify and the probes use exactly these. */
  changesetWorkloads: string;
  targetId: string;
  environment: "staging" | "production";
  state: RolloutState;
  approvalsRequired: number;
  requestedBy: string;
  precheck: PrecheckReport | null;
  verify: VerifyReport | null;
  error: string | null;
  /** Why the last phase failed, as a code (null: no error, or one without a code). */
  errorCode: FailureCode | null;
  cancelRequested: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface CheckResult {
  id: string;
  title: string;
  status: "pass" | "warn" | "fail";
  summary: string;
  evidence?: unknown;
  /**
   * What the check's outcome means, as data: what a gate reads instead of the summary where a later
   * phase depends on how a check passed (window_overridden), and what advice a check that did not
   * pass links to (lib/text/troubleshooting.ts).
   */
  code?: FailureCode | "window_overridden";
}

export interface PrecheckReport {
  at: string;
  ok: boolean;
  checks: CheckResult[];
}

export interface VerifyReport {
  at: string;
  ok: boolean;
  indexes: CheckResult[];
  plans: CheckResult[];
}

export interface RolloutTask {
  seq: number;
  kind: string;
  statement: string;
  line: number;
  indexName: string | null;
  schemaName: string | null;
  tableName: string | null;
  status: TaskStatus;
  attempts: number;
  createdByRollout: boolean;
  startedAt: Date | null;
  finishedAt: Date | null;
  error: string | null;
}

/** What POST /api/rollouts takes: which change set, on which target. */
export const NewRollout = z.object({ changesetId: z.string().min(1).max(200), targetId: z.string().min(1).max(63) });

/** A refusal with a reason a person can act on; the HTTP layer maps it to 409/422/404. */
export class RolloutError extends Error {
  constructor(
    message: string,
    readonly status: 404 | 409 | 422 = 409,
  ) {
    super(message);
  }
}

const ROLLOUT_COLUMNS = `
  id,
  changeset_id       AS "changesetId",
  changeset_name     AS "changesetName",
  changeset_sha256   AS "changesetSha256",
  changeset_sql      AS "changesetSql",
  changeset_workloads AS "changesetWorkloads",
  target_id          AS "targetId",
  environment,
  state,
  approvals_required AS "approvalsRequired",
  requested_by       AS "requestedBy",
  precheck,
  verify,
  error,
  error_code         AS "errorCode",
  cancel_requested   AS "cancelRequested",
  created_at         AS "createdAt",
  updated_at         AS "updatedAt"`;

export async function getRollout(db: Pick<pg.Pool, "query">, id: number): Promise<Rollout | null> {
  const { rows } = await db.query<Rollout>(`SELECT ${ROLLOUT_COLUMNS} FROM rollout WHERE id = $1`, [id]);
  return rows[0] ?? null;
}

export async function listRollouts(db: Pick<pg.Pool, "query">, limit = 200): Promise<Rollout[]> {
  const { rows } = await db.query<Rollout>(`SELECT ${ROLLOUT_COLUMNS} FROM rollout ORDER BY id DESC LIMIT $1`, [limit]);
  return rows;
}

export async function rolloutTasks(db: Pick<pg.Pool, "query">, id: number): Promise<RolloutTask[]> {
  const { rows } = await db.query<RolloutTask>(
    `SELECT
       seq,
       kind,
       statement,
       line,
       index_name         AS "indexName",
       schema_name        AS "schemaName",
       table_name         AS "tableName",
       status,
       attempts,
       created_by_rollout AS "createdByRollout",
       started_at         AS "startedAt",
       finished_at        AS "finishedAt",
       error
     FROM rollout_task
    WHERE rollout_id = $1
    ORDER BY seq`,
    [id],
  );
  return rows;
}

/**
 * Creates a rollout of a change set on a target. Lint errors and statements that must never run
 * on the target refuse it here; a target whose policy needs no approvals is approved at once.
 */
export async function createRollout(
  pool: pg.Pool,
  targets: TargetSource,
  input: { changesetId: string; targetId: string },
  actor: Actor,
): Promise<Rollout> {
  const target = findTarget(await targets(), input.targetId);
  if (!target) throw new RolloutError(`unknown target ${input.targetId}`, 404);
  authorizeTarget(actor, target.id);
  const cs = await getChangeSet(pool, input.changesetId);
  if (!cs) throw new RolloutError(`unknown change set ${input.changesetId}`, 404);
  const limits = sessionLimits(target);
  const report = await lintText({ file: cs.name, text: cs.sql, options: limits });
  const errors = report.findings.filter((f) => f.severity === "error");
  let tasks;
  try {
    if (errors.length) {
      throw new PlanError(
        `${cs.name} has ${errors.length} lint error(s), e.g. ${cs.name}:${errors[0].line}:${errors[0].column}: ${errors[0].rule}: ${errors[0].message}`,
      );
    }
    tasks = await planChangeSet(cs.name, cs.sql, target.environment, limits);
    await checkWorkloads(cs.name, cs.workloads, report);
  } catch (err) {
    if (!(err instanceof PlanError || err instanceof WorkloadError)) throw err;
    // A refusal is a decision too: it is on record, with what was refused and why.
    await withTransaction(pool, (tx) =>
      appendAudit(tx, {
        ...auditActor(actor),
        action: "rollout.refused",
        targetId: target.id,
        rolloutId: null,
        changesetSha256: cs.sha256,
        details: { changeset: cs.name, reasons: err.message.split("\n").slice(0, 20) },
      }),
    );
    throw new RolloutError(err.message, 422);
  }
  if (!tasks.some((t) => t.kind !== "set")) throw new RolloutError(`${cs.name} has no index statements`, 422);
  const state = initialState(target.approvals.required);
  return withTransaction(pool, async (tx) => {
    const {
      rows: [{ id }],
    } = await tx.query<{ id: number }>(
      `INSERT INTO rollout (changeset_id, changeset_name, changeset_sha256, changeset_sql, changeset_workloads, target_id, environment, state, approvals_required, requested_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
      [cs.id, cs.name, cs.sha256, cs.sql, cs.workloads, target.id, target.environment, state, target.approvals.required, actor.email],
    );
    for (const t of tasks) {
      await tx.query(
        "INSERT INTO rollout_task (rollout_id, seq, kind, statement, line, index_name, schema_name, table_name) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        [id, t.seq, t.kind, t.statement, t.line, t.indexName, t.schemaName, t.tableName],
      );
    }
    await appendAudit(tx, {
      ...auditActor(actor),
      action: "rollout.create",
      targetId: target.id,
      rolloutId: id,
      changesetSha256: cs.sha256,
      details: { changeset: cs.name, state, warnings: report.findings.length },
    });
    await appendEvent(tx, id, "created", { by: actor.email, state });
    const rollout = (await getRollout(tx, id))!;
    await announceRollout(tx, rollout, { approverRoles: target.approvals.roles });
    return rollout;
  });
}
