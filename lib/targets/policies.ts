import type pg from "pg";
import * as z from "zod";
import { appendAudit, auditActor } from "../audit/log";
import { authorize, authorizeTarget, ForbiddenError, type Actor } from "../auth/policy";
import { withTransaction } from "../store/pool";
import { ApprovalPolicySchema, findTarget, FreezeSchema, MaintenanceWindowSchema, meetsProductionFloor, type TargetConfig } from "./config";
import type { TargetSource } from "./source";

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
  /** Saved for a production target: it governs only once a second admin approves it. */
  needsApproval: boolean;
  approvedBy: string | null;
}

/** Whether a saved version governs: any version of a staging target, a production one once a second admin approved it. */
export function inForce(v: PolicyVersion): boolean {
  return !v.needsApproval || v.approvedBy !== null;
}

export class PolicyError extends Error {
  constructor(
    message: string,
    readonly status = 422,
  ) {
    super(message);
  }
}

export function policyOf(t: TargetConfig): Policy {
  return { approvals: t.approvals, maintenanceWindows: t.maintenanceWindows, freezes: t.freezes };
}

const VERSION_COLUMNS = `
  p.target_id       AS "targetId",
  p.version,
  p.policy,
  p.reason,
  p.changed_by      AS "changedBy",
  p.changed_by_role AS "changedByRole",
  p.created_at      AS "createdAt",
  p.needs_approval  AS "needsApproval",
  a.approved_by     AS "approvedBy"`;

const VERSIONS = "target_policy p LEFT JOIN target_policy_approval a ON a.target_id = p.target_id AND a.version = p.version";

/**
 * `base`'s targets with each one's newest policy version in force from the store laid over it: what
 * checks approvals or windows reads (`governingTargets` in ./source).
 */
export function withPolicies(db: Pick<pg.Pool, "query">, base: TargetSource): TargetSource {
  return async () => {
    const [targets, latest] = await Promise.all([base(), policiesInForce(db)]);
    return targets.map((t) => {
      const v = latest.get(t.id);
      return v ? { ...t, ...v.policy } : t;
    });
  };
}

async function policiesInForce(db: Pick<pg.Pool, "query">): Promise<Map<string, PolicyVersion>> {
  const { rows } = await db.query<PolicyVersion>(
    `SELECT DISTINCT ON (p.target_id) ${VERSION_COLUMNS}
       FROM ${VERSIONS}
      WHERE NOT p.needs_approval OR a.approved_by IS NOT NULL
      ORDER BY p.target_id, p.version DESC`,
  );
  return new Map(rows.map((r) => [r.targetId, r]));
}

export async function policyHistory(db: Pick<pg.Pool, "query">, targetId: string): Promise<PolicyVersion[]> {
  const { rows } = await db.query<PolicyVersion>(
    `SELECT ${VERSION_COLUMNS} FROM ${VERSIONS} WHERE p.target_id = $1 ORDER BY p.version DESC`,
    [targetId],
  );
  return rows;
}

/**
 * What governs a target now and where it came from: the newest version in force (0 when none, and the
 * targets file's policy applies), the newest version saved (`latest`, which a new change must be based
 * on), a version awaiting a second admin if there is one, and every version, newest first.
 */
export async function policyState(
  db: Pick<pg.Pool, "query">,
  target: TargetConfig,
): Promise<{ version: number; latest: number; policy: Policy; pending: PolicyVersion | null; history: PolicyVersion[] }> {
  const history = await policyHistory(db, target.id);
  const current = history.find(inForce);
  const pending = history[0] && !inForce(history[0]) ? history[0] : null;
  return {
    version: current?.version ?? 0,
    latest: history[0]?.version ?? 0,
    policy: current?.policy ?? policyOf(target),
    pending,
    history,
  };
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
export async function changePolicy(pool: pg.Pool, targets: TargetSource, actor: Actor, change: PolicyChange): Promise<PolicyVersion> {
  authorize(actor, "policy:manage");
  authorizeTarget(actor, change.targetId);
  const target = findTarget(await targets(), change.targetId);
  if (!target) throw new PolicyError(`target ${change.targetId} is not configured`, 404);
  const production = target.environment === "production";
  if (production && !meetsProductionFloor(change.policy.approvals)) {
    throw new PolicyError(
      `${change.targetId} is a production target: it needs 2 approvals from people other than the requester, a floor no policy can lower`,
      422,
    );
  }
  return withTransaction(pool, async (tx) => {
    // One change per target at a time; the unique (target_id, version) key backs this up.
    await tx.query("SELECT pg_advisory_xact_lock(hashtext('indexdeck.policy'), hashtext($1))", [change.targetId]);
    const {
      latest,
      policy: before,
      history: [newest],
    } = await policyState(tx, target);
    if (change.basedOn !== latest) {
      throw new PolicyError(
        `the policy of ${change.targetId} changed since this form was opened (now version ${latest}${newest ? ` by ${newest.changedBy}` : ""}); reload and edit again`,
        409,
      );
    }
    const {
      rows: [{ version }],
    } = await tx.query<{ version: number }>(
      `INSERT INTO target_policy (target_id, version, policy, reason, changed_by, changed_by_role, needs_approval)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING version`,
      [change.targetId, latest + 1, JSON.stringify(change.policy), change.reason, actor.email, actor.role, production],
    );
    await appendAudit(tx, {
      ...auditActor(actor),
      action: "policy.change",
      targetId: change.targetId,
      details: { version, reason: change.reason, before, after: change.policy, pending: production },
    });
    return (await policyHistory(tx, change.targetId)).find((v) => v.version === version)!;
  });
}

export const PolicyApproval = z.object({ targetId: z.string().min(1).max(63), version: z.number().int().positive() });

/**
 * A second admin puts a pending production policy version in force. Its author can't, and only the
 * newest version can be approved: an older pending one was superseded before anyone agreed to it.
 */
export async function approvePolicyChange(
  pool: pg.Pool,
  targets: TargetSource,
  actor: Actor,
  input: z.infer<typeof PolicyApproval>,
): Promise<PolicyVersion> {
  authorize(actor, "policy:manage");
  authorizeTarget(actor, input.targetId);
  const target = findTarget(await targets(), input.targetId);
  if (!target) throw new PolicyError(`target ${input.targetId} is not configured`, 404);
  return withTransaction(pool, async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext('indexdeck.policy'), hashtext($1))", [input.targetId]);
    const history = await policyHistory(tx, input.targetId);
    const v = history.find((h) => h.version === input.version);
    if (!v) throw new PolicyError(`${input.targetId} has no policy version ${input.version}`, 404);
    if (inForce(v)) throw new PolicyError(`version ${v.version} of ${input.targetId} is already in force`, 409);
    if (v.version !== history[0].version)
      throw new PolicyError(
        `version ${v.version} of ${input.targetId} was superseded by version ${history[0].version}; review that one`,
        409,
      );
    if (v.changedBy === actor.email) throw new ForbiddenError(`you saved version ${v.version}: another admin must approve it (four eyes)`);
    await tx.query("INSERT INTO target_policy_approval (target_id, version, approved_by, approved_by_role) VALUES ($1, $2, $3, $4)", [
      v.targetId,
      v.version,
      actor.email,
      actor.role,
    ]);
    await appendAudit(tx, {
      ...auditActor(actor),
      action: "policy.approve",
      targetId: v.targetId,
      details: { version: v.version, author: v.changedBy, reason: v.reason },
    });
    return (await policyHistory(tx, input.targetId)).find((h) => h.version === v.version)!;
  });
}
