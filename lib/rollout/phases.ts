import type pg from "pg";
import { z } from "zod";
import { appendAudit, auditActor } from "../audit/log";
import { authorize, authorizeTarget, type Action, type Actor } from "../auth/policy";
import { getChangeSet } from "../changeset/catalog";
import { enqueueJob, JobConflictError, type JobKind } from "../jobs/queue";
import { withTransaction } from "../store/pool";
import { appendEvent } from "./events";
import { getRollout, ROLLOUT_STATES, RolloutError, transition, type RolloutState } from "./rollouts";
import { findTarget, type TargetConfig } from "../targets/config";
import { targetsWithPolicies } from "../targets/policies";
import { maintenanceWindow } from "../targets/windows";

export const PHASES = ["precheck", "apply", "verify", "rollback", "cancel"] as const;
export type Phase = (typeof PHASES)[number];

/** What each phase needs of the policy (lib/auth/policy.ts). */
export const PHASE_PERMISSION: Record<Phase, Action> = {
  precheck: "rollout:run",
  apply: "rollout:run",
  verify: "rollout:run",
  cancel: "rollout:run",
  rollback: "rollout:rollback",
};

export const PhaseInput = z.object({
  backupId: z.string().trim().max(200, "backup id: at most 200 characters").optional(),
  diskFree: z.string().trim().max(500, "disk attestation: at most 500 characters").optional(),
  reason: z.string().trim().max(2000, "reason: at most 2000 characters").optional(),
  /** A written reason to run outside the maintenance window (dba, admin). */
  windowOverride: z.string().trim().min(10, "window override: give a reason of at least 10 characters").max(2000).optional(),
  /** A written reason to go to production without a verified staging rollout (admin). */
  promotionWaiver: z.string().trim().min(10, "promotion waiver: give a reason of at least 10 characters").max(2000).optional(),
  /** A written reason to build on production although a schema on its search_path is writable by others (admin). */
  searchPathWaiver: z.string().trim().min(10, "search_path waiver: give a reason of at least 10 characters").max(2000).optional(),
  /** The state the person saw when they pressed the button: a stale page is refused, not acted on. */
  expectedState: z.enum(ROLLOUT_STATES).optional(),
});
export type PhaseInput = z.infer<typeof PhaseInput>;

const FROM: Record<Phase, readonly RolloutState[]> = {
  // Not from cancelled: a rejected rollout is cancelled too, and must never come back to life.
  precheck: ["approved", "prechecked", "failed"],
  apply: ["prechecked"],
  verify: ["verifying", "verified"],
  rollback: ["verifying", "verified", "failed", "cancelled", "signed_off"],
  cancel: ["applying"],
};

function authorizeOr409(actor: Actor, action: Action) {
  try {
    authorize(actor, action);
  } catch {
    throw new RolloutError(`role ${actor.role} may not ${action}`, 422);
  }
}

/**
 * Starts a phase of a rollout for a person: checks the state and the inputs, records the request
 * in the audit log and queues the work for the job runner, all in one transaction, and returns at
 * once. The work itself never runs in the request.
 */
export async function requestPhase(
  pool: pg.Pool,
  rolloutId: number,
  phase: Phase,
  actor: Actor,
  input: PhaseInput,
  targets?: TargetConfig[],
): Promise<{ message: string }> {
  const rollout = await getRollout(pool, rolloutId);
  if (!rollout) throw new RolloutError(`rollout ${rolloutId} does not exist`, 404);
  authorizeTarget(actor, rollout.targetId);
  if (input.expectedState && input.expectedState !== rollout.state) {
    throw new RolloutError(`rollout ${rolloutId} is now ${rollout.state} (the page showed ${input.expectedState}); reload before acting`);
  }
  if (!FROM[phase].includes(rollout.state)) {
    throw new RolloutError(`cannot ${phase} rollout ${rolloutId} while it is ${rollout.state}; ${phase} needs ${FROM[phase].join(" or ")}`);
  }
  if (phase === "apply") {
    if (!rollout.precheck?.ok) throw new RolloutError("pre-check has not passed: run pre-check and resolve its failures first");
    const current = await getChangeSet(pool, rollout.changesetId);
    if (!current || current.sha256 !== rollout.changesetSha256) {
      throw new RolloutError(
        `change set ${rollout.changesetName} changed since this rollout was created (sha256 ${rollout.changesetSha256.slice(0, 12)}… → ${current?.sha256.slice(0, 12) ?? "gone"}…); its approvals are stale: create a new rollout`,
        409,
      );
    }
  }
  if (phase === "rollback" && (input.reason ?? "").length < 5)
    throw new RolloutError("rollback needs a reason (at least 5 characters)", 422);
  // Four eyes (invariant 11): whoever lowers a safeguard for a rollout must not be the one who asked for it.
  if ((input.windowOverride || input.promotionWaiver || input.searchPathWaiver) && actor.email === rollout.requestedBy) {
    throw new RolloutError("you requested this rollout: an override or waiver for it must come from another person (four eyes)", 403);
  }
  if (input.windowOverride) authorizeOr409(actor, "window:override");
  if (input.promotionWaiver) authorizeOr409(actor, "promotion:waive");
  if (input.searchPathWaiver) authorizeOr409(actor, "searchpath:waive");
  if (phase === "apply") {
    // The window is checked again now: a pre-check from hours ago proves nothing about this minute.
    const target = findTarget(targets ?? (await targetsWithPolicies(pool)), rollout.targetId);
    const window = target ? maintenanceWindow(target) : null;
    // Decided by the check's code, never by its wording.
    const overridden = rollout.precheck?.checks.some(
      (c) => c.id === "maintenance-window" && c.status !== "fail" && c.code === "window_overridden",
    );
    if (window && !window.open && !overridden)
      throw new RolloutError(`${window.reason}; a dba or admin can run pre-check with a written override`, 409);
  }

  return withTransaction(pool, async (tx) => {
    // Lock the row so two clicks (or two servers) decide one after the other.
    await tx.query("SELECT 1 FROM rollout WHERE id = $1 FOR UPDATE", [rolloutId]);
    const locked = (await getRollout(tx, rolloutId))!;
    if (!FROM[phase].includes(locked.state))
      throw new RolloutError(`rollout ${rolloutId} is now ${locked.state}; ${phase} needs ${FROM[phase].join(" or ")}`);
    const audit = { ...auditActor(actor), targetId: rollout.targetId, rolloutId, changesetSha256: rollout.changesetSha256 };
    if (phase === "cancel") {
      await tx.query("UPDATE rollout SET cancel_requested = true, updated_at = now() WHERE id = $1", [rolloutId]);
      await appendAudit(tx, { ...audit, action: "rollout.cancel", details: { reason: input.reason ?? null } });
      await appendEvent(tx, rolloutId, "cancel_requested", { by: actor.email });
      return { message: "cancel requested: indexdeck will cancel its own build and clean up" };
    }
    if (phase === "apply") await transition(tx, rolloutId, ["prechecked"], "applying", { error: null });
    const payload = {
      by: actor.email,
      backupId: input.backupId || undefined,
      diskFree: input.diskFree || undefined,
      reason: input.reason || undefined,
      windowOverride: input.windowOverride || undefined,
      promotionWaiver: input.promotionWaiver || undefined,
      searchPathWaiver: input.searchPathWaiver || undefined,
    };
    if (input.windowOverride)
      await appendAudit(tx, { ...audit, action: "rollout.window.override", details: { reason: input.windowOverride } });
    if (input.promotionWaiver)
      await appendAudit(tx, { ...audit, action: "rollout.promotion.waive", details: { reason: input.promotionWaiver } });
    if (input.searchPathWaiver)
      await appendAudit(tx, { ...audit, action: "rollout.searchpath.waive", details: { reason: input.searchPathWaiver } });
    try {
      await enqueueJob(tx, phase as JobKind, rolloutId, payload);
    } catch (err) {
      if (err instanceof JobConflictError) throw new RolloutError(err.message);
      throw err;
    }
    await appendAudit(tx, { ...audit, action: `rollout.${phase}.start`, details: payload });
    await appendEvent(tx, rolloutId, "phase_requested", { phase, by: actor.email });
    return { message: `${phase} queued` };
  });
}
