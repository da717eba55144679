import type pg from "pg";
import * as z from "zod";
import { appendAudit, auditActor } from "../audit/log";
import { authorizeTarget, type Actor } from "../auth/policy";
import { getChangeSet } from "../changeset/store";
import { withTransaction } from "../store/pool";
import { findTarget } from "../targets/config";
import { appendEvent } from "./events";
import { decide, refusal, stateAllows } from "./machine";
import { getRollout, RolloutError } from "./rollouts";
import type { TargetSource } from "../targets/source";

export const ApprovalInput = z.object({
  decision: z.enum(["approve", "reject"]),
  comment: z.string().trim().min(1, "comment: say why (required)").max(2000, "comment: at most 2000 characters"),
  /** What the approver saw: a form for other SQL or another target is refused, not applied here. */
  changesetSha256: z.string().regex(/^[0-9a-f]{64}$/, "changesetSha256: not a sha256"),
  targetId: z.string().min(1).max(63),
});
export type ApprovalInput = z.infer<typeof ApprovalInput>;

export interface Approval {
  id: number;
  approver: string;
  approverRole: string;
  decision: "approve" | "reject";
  comment: string;
  changesetSha256: string;
  createdAt: Date;
}

export async function listApprovals(db: Pick<pg.Pool, "query">, rolloutId: number): Promise<Approval[]> {
  const { rows } = await db.query<Approval>(
    `SELECT
       id,
       approver,
       approver_role    AS "approverRole",
       decision,
       comment,
       changeset_sha256 AS "changesetSha256",
       created_at       AS "createdAt"
     FROM approval
    WHERE rollout_id = $1
    ORDER BY id`,
    [rolloutId],
  );
  return rows;
}

/**
 * Records an approval or rejection by `actor` (who comes from the session, never from the form).
 * Enough distinct approvals for the current sha256 approve the rollout; a rejection cancels it.
 */
export async function decideRollout(
  pool: pg.Pool,
  targets: TargetSource,
  rolloutId: number,
  actor: Actor,
  input: ApprovalInput,
): Promise<{ message: string }> {
  const rollout = await getRollout(pool, rolloutId);
  if (!rollout) throw new RolloutError(`rollout ${rolloutId} does not exist`, 404);
  authorizeTarget(actor, rollout.targetId);
  if (input.targetId !== rollout.targetId)
    throw new RolloutError(`this approval names target ${input.targetId}, but rollout ${rolloutId} is for ${rollout.targetId}`, 422);
  if (input.changesetSha256 !== rollout.changesetSha256)
    throw new RolloutError(
      `this approval is for sha256 ${input.changesetSha256.slice(0, 12)}…, but the rollout's SQL is ${rollout.changesetSha256.slice(0, 12)}…; reload and review the SQL again`,
      409,
    );
  const target = findTarget(await targets(), rollout.targetId);
  if (!target) throw new RolloutError(`target ${rollout.targetId} is no longer configured`, 409);
  if (!target.approvals.roles.includes(actor.role))
    throw new RolloutError(`target ${target.id} takes approvals from ${target.approvals.roles.join(", ")}, not ${actor.role}`, 422);
  if (!target.approvals.requesterMayApprove && actor.email === rollout.requestedBy)
    throw new RolloutError("you requested this rollout: another person must approve it (four eyes)", 422);
  const current = await getChangeSet(pool, rollout.changesetId);
  if (!current || current.sha256 !== rollout.changesetSha256)
    throw new RolloutError(
      `change set ${rollout.changesetName} changed since this rollout was created; approvals for it would be stale: create a new rollout`,
      409,
    );

  return withTransaction(pool, async (tx) => {
    await tx.query("SELECT 1 FROM rollout WHERE id = $1 FOR UPDATE", [rolloutId]);
    const locked = (await getRollout(tx, rolloutId))!;
    if (!stateAllows(input.decision, locked.state)) throw refusal(input.decision, rolloutId, locked.state);
    try {
      await tx.query(
        `INSERT INTO approval (rollout_id, changeset_sha256, target_id, approver, approver_role, decision, comment)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [rolloutId, rollout.changesetSha256, rollout.targetId, actor.email, actor.role, input.decision, input.comment],
      );
    } catch (err) {
      if ((err as { code?: string }).code === "23505")
        throw new RolloutError(`${actor.email} has already decided on this rollout; a second approval must come from another person`, 409);
      throw err;
    }
    const audit = { ...auditActor(actor), targetId: rollout.targetId, rolloutId, changesetSha256: rollout.changesetSha256 };
    await appendAudit(tx, {
      ...audit,
      action: input.decision === "approve" ? "rollout.approve" : "rollout.reject",
      details: { comment: input.comment },
    });
    if (input.decision === "reject") {
      await decide(tx, rolloutId, "reject", `rejected by ${actor.email}: ${input.comment}`);
      await appendEvent(tx, rolloutId, "rejected", { by: actor.email });
      return { message: "rejected: the rollout is cancelled" };
    }
    const n = await approvalCount(tx, rolloutId, rollout.changesetSha256);
    await appendEvent(tx, rolloutId, "approved_by", { by: actor.email, approvals: n, required: rollout.approvalsRequired });
    if (n >= rollout.approvalsRequired) {
      await decide(tx, rolloutId, "approve");
      return { message: `approved (${n} of ${rollout.approvalsRequired}): the rollout may be pre-checked` };
    }
    return { message: `approval recorded (${n} of ${rollout.approvalsRequired})` };
  });
}

/** How many distinct people approved this sha256 for this rollout: what "approved" means, wherever it is asked. */
export async function approvalCount(db: Pick<pg.ClientBase, "query">, rolloutId: number, sha256: string): Promise<number> {
  const {
    rows: [{ n }],
  } = await db.query<{ n: number }>(
    "SELECT count(DISTINCT approver)::int AS n FROM approval WHERE rollout_id = $1 AND changeset_sha256 = $2 AND decision = 'approve'",
    [rolloutId, sha256],
  );
  return n;
}
