import type pg from "pg";
import { z } from "zod";
import { appendAudit } from "../audit/log";
import { authorize, type Actor } from "../auth/policy";
import { withTransaction } from "../store/pool";
import { ApprovalPolicySchema, findTarget, FreezeSchema, loadTargets, MaintenanceWindowSchema, type TargetConfig } from "./config";

/** The part of a target an admin may change in the app; everything else stays in the targets file. */
export const PolicySchema = z
  .object({
    approvals: ApprovalPolicySchema,
    maintenanceWindows: z.array(MaintenanceWindowSchema).max(50),
    freezes: z.array(FreezeSchema).max(50),
  })
  .strict();
export type Policy = z.infer<typeof PolicySchema>;

export interface PolicyVersion {
  targetId: string;
  version: number;
  policy: Policy;
  reason: string;
  changedBy: string;
  changedByRole: string;
  createdAt: Date;
}

export class PolicyError extends Error {
  constructor(message: string, readonly status = 422) {
    super(message);
  }
}

export function policyOf(t: TargetConfig): Policy {
  return { approvals: t.approvals, maintenanceWindows: t.maintenanceWindows, freezes: t.freezes };
}

const VERSION_COLUMNS = `
  target_id       AS "targetId",
  version,
  policy,
  reason,
  changed_by      AS "changedBy",
  changed_by_role AS "changedByRole",
  created_at      AS "createdAt"`;

/**
 * The targets as they govern rollouts now: the file's, with each target's newest policy version
 * from the store laid over it. Everything that checks approvals or windows reads targets here.
 */
export async function targetsWithPolicies(db: Pick<pg.Pool, "query">, targets: TargetConfig[] = loadTargets()): Promise<TargetConfig[]> {
  const { rows } = await db.query<PolicyVersion>(
    `SELECT DISTINCT ON (target_id) ${VERSION_COLUMNS} FROM target_policy ORDER BY target_id, version DESC`,
  );
  const latest = new Map(rows.map((r) => [r.targetId, r]));
  return targets.map((t) => {
    const v = latest.get(t.id);
    return v ? { ...t, ...v.policy } : t;
  });
}

export async function policyHistory(db: Pick<pg.Pool, "query">, targetId: string): Promise<PolicyVersion[]> {
  const { rows } = await db.query<PolicyVersion>(`SELECT ${VERSION_COLUMNS} FROM target_policy WHERE target_id = $1 ORDER BY version DESC`, [targetId]);
  return rows;
}

/**
 * What governs a target now and where it came from: the newest version saved in the app (0 when
 * none, and the targets file's policy applies), with every version, newest first.
 */
export async function policyState(db: Pick<pg.Pool, "query">, target: TargetConfig): Promise<{ version: number; policy: Policy; history: PolicyVersion[] }> {
  const history = await policyHistory(db, target.id);
  return { version: history[0]?.version ?? 0, policy: history[0]?.policy ?? policyOf(target), history };
}

export const PolicyChange = z.object({
  targetId: z.string().min(1).max(63),
  policy: PolicySchema,
  reason: z.string().trim().min(1, "say why the policy changes").max(2000, "the reason is longer than 2,000 characters"),
  /** The version the form showed (0: the targets file's); a newer one in the store makes this a conflict. */
  basedOn: z.number().int().min(0),
});
export type PolicyChange = z.infer<typeof PolicyChange>;

/**
 * Records a new policy version for a target and its audit row (before, after, reason) in one
 * transaction. Rollouts already requested keep the approval count they were created with; roles,
 * windows and freezes apply from the next approval or phase.
 */
export async function changePolicy(pool: pg.Pool, targets: TargetConfig[], actor: Actor, change: PolicyChange): Promise<PolicyVersion> {
  authorize(actor, "policy:manage");
  const fileTarget = findTarget(targets, change.targetId);
  if (!fileTarget) throw new PolicyError(`target ${change.targetId} is not configured`, 404);
  return withTransaction(pool, async (tx) => {
    // One change per target at a time; the unique (target_id, version) key backs this up.
    await tx.query("SELECT pg_advisory_xact_lock(hashtext('indexdeck.policy'), hashtext($1))", [change.targetId]);
    const { version, policy: before, history: [latest] } = await policyState(tx, fileTarget);
    if (change.basedOn !== version) {
      throw new PolicyError(`the policy of ${change.targetId} changed since this form was opened (now version ${version}${latest ? ` by ${latest.changedBy}` : ""}); reload and edit again`, 409);
    }
    const { rows: [row] } = await tx.query<PolicyVersion>(
      `INSERT INTO target_policy (target_id, version, policy, reason, changed_by, changed_by_role)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${VERSION_COLUMNS}`,
      [change.targetId, version + 1, JSON.stringify(change.policy), change.reason, actor.email, actor.role],
    );
    await appendAudit(tx, {
      actor: actor.email, role: actor.role, action: "policy.change", targetId: change.targetId,
      details: { version: version + 1, reason: change.reason, before, after: change.policy },
    });
    return row;
  });
}
