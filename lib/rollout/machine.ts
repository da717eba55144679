/**
 * rollout/ — a change set applied to one target. This file, the machine, declares every phase and
 * decision once; each phase's job is a file of phases/ (guard + run), started by run-phase.ts; the
 * engines they drive (precheck.ts, apply.ts, verify.ts, plan.ts) serve the CLI too; reconcile.ts
 * settles what a dead server left; report.ts tells what happened.
 *
 * The rollout state machine, declared once. Every phase a person can ask for and every decision that
 * moves a rollout is a row of MACHINE: who may ask (a policy Action), from which states, the state
 * while its job runs, the state each outcome of the job leads to, and whether it queues a job. What
 * reads it: requestPhase (the page's buttons, the API and the CLI all go through it, stale pages and
 * 409 messages included), allowedPhases (which buttons the page shows), settle (how every job ends)
 * and the approve / reject / sign-off decisions. Nothing else writes rollout.state or rollout.error.
 */
import type pg from "pg";
import * as z from "zod";
import { appendAudit, auditActor } from "../audit/log";
import { authorize, authorizeTarget, can, ForbiddenError, type Action, type Actor, type Role } from "../auth/policy";
import { getChangeSet } from "../changeset/store";
import { enqueueJob, finishJob, JobConflictError, type Job } from "../jobs/queue";
import { withTransaction } from "../store/pool";
import { findTarget } from "../targets/config";
import { maintenanceWindow } from "../targets/windows";
import type { FailureCode } from "../text/troubleshooting";
import { announceRollout, isAnnouncedState } from "../webhooks/notify";
import { appendEvent, type EventData, type EventKind } from "./events";
import { getRollout, RolloutError, type PrecheckReport, type Rollout, type VerifyReport } from "./rollouts";
import type { TargetSource } from "../targets/source";

/**
 * Every state a rollout can be in, as sql/app/002_rollouts.sql checks them (no step leads to draft
 * today), each once, with where it stands: waiting for people before any work, work in progress on its
 * target, or an end of one (the fleet view reads these).
 */
const STATE_STAGES = {
  draft: "waiting",
  awaiting_approval: "waiting",
  approved: "in_flight",
  prechecked: "in_flight",
  applying: "in_flight",
  verifying: "in_flight",
  verified: "finished",
  signed_off: "finished",
  failed: "finished",
  rolled_back: "finished",
  cancelled: "finished",
} as const;
export type RolloutState = keyof typeof STATE_STAGES;
export const ROLLOUT_STATES = Object.keys(STATE_STAGES) as [RolloutState, ...RolloutState[]];

/** The states at one stage of a rollout's life. */
export function statesAt(stage: (typeof STATE_STAGES)[RolloutState]): RolloutState[] {
  return ROLLOUT_STATES.filter((s) => STATE_STAGES[s] === stage);
}

/** An outcome that leaves the state as it was (the rollout's error says what happened). */
export const STAY = "stay";

interface PhaseDeclaration {
  permission: Action;
  /** The states a person may ask for it in. */
  from: readonly RolloutState[];
  /** The state while its job runs, entered when it is asked for; null: the state does not change until it settles. */
  running: RolloutState | null;
  /** Whether asking for it queues a job (settled by `settle`); cancel only flags the running apply. */
  job: boolean;
  /** Where each outcome of the job leads. */
  on: Readonly<Record<string, RolloutState | typeof STAY>>;
  /** A phase queued, in the same transaction, after the job settles with that outcome. */
  then?: Readonly<Record<string, string>>;
  /** A written reason is required (at least this many characters). */
  reasonMin?: number;
}

export const MACHINE = {
  precheck: {
    permission: "rollout:run",
    // Not from cancelled: a rejected rollout is cancelled too, and must never come back to life.
    from: ["approved", "prechecked", "failed"],
    running: null,
    job: true,
    on: { ok: "prechecked", failed: "approved", error: STAY },
  },
  apply: {
    permission: "rollout:run",
    from: ["prechecked"],
    running: "applying",
    job: true,
    // busy: another rollout holds the target's advisory lock; nothing ran, so pre-checked again.
    on: { ok: "verifying", failed: "failed", cancelled: "cancelled", busy: "prechecked", error: "failed" },
    then: { ok: "verify" },
  },
  verify: {
    permission: "rollout:run",
    from: ["verifying", "verified"],
    running: null,
    job: true,
    on: { ok: "verified", failed: "verifying", error: STAY },
  },
  rollback: {
    permission: "rollout:rollback",
    from: ["verifying", "verified", "failed", "cancelled", "signed_off"],
    running: null,
    job: true,
    on: { ok: "rolled_back", failed: STAY, error: STAY },
    reasonMin: 5,
  },
  cancel: {
    permission: "rollout:run",
    from: ["applying"],
    running: null,
    job: false,
    on: {},
  },
} as const satisfies Record<string, PhaseDeclaration>;

export type Phase = keyof typeof MACHINE;
export const PHASES = Object.keys(MACHINE) as [Phase, ...Phase[]];
/** The phases that run as a job of the queue (lib/jobs/queue.ts). */
export type JobPhase = { [P in Phase]: (typeof MACHINE)[P]["job"] extends true ? P : never }[Phase];
export function isJobPhase(phase: string): phase is JobPhase {
  return Object.hasOwn(MACHINE, phase) && MACHINE[phase as Phase].job;
}
export const JOB_PHASES: readonly JobPhase[] = PHASES.filter(isJobPhase);
export type Outcome<P extends JobPhase> = keyof (typeof MACHINE)[P]["on"] & string;

/** Decisions by people that move a rollout without a job. */
export const DECISIONS = {
  approve: { permission: "rollout:approve", from: ["awaiting_approval"], to: "approved" },
  reject: { permission: "rollout:approve", from: ["awaiting_approval"], to: "cancelled" },
  signoff: { permission: "rollout:signoff", from: ["verified"], to: "signed_off" },
} as const satisfies Record<string, { permission: Action; from: readonly RolloutState[]; to: RolloutState }>;
export type Decision = keyof typeof DECISIONS;

/** Where a new rollout starts: approved at once when its target's policy needs no approvals. */
export function initialState(approvalsRequired: number): RolloutState {
  return approvalsRequired === 0 ? DECISIONS.approve.to : DECISIONS.approve.from[0];
}

/** States in which the change set counts as verified on a target (promotion from staging reads this). */
export const VERIFIED_STATES: readonly RolloutState[] = [MACHINE.verify.on.ok, DECISIONS.signoff.to];

type Step = Phase | Decision;
const declaration = (step: Step): { permission: Action; from: readonly RolloutState[] } =>
  step in MACHINE ? MACHINE[step as Phase] : DECISIONS[step as Decision];

/** Whether a rollout in `state` may take `step` at all (whoever asks). */
export function stateAllows(step: Step, state: RolloutState): boolean {
  return declaration(step).from.includes(state);
}

/** Whether `role` may take `step` while a rollout is in `state`: what the rollout page shows buttons for. */
export function allowedStep(step: Step, state: RolloutState, role: Role): boolean {
  return can(role, declaration(step).permission) && stateAllows(step, state);
}

/** The phases `role` may ask for while a rollout is in `state`. */
export function allowedPhases(state: RolloutState, role: Role): Phase[] {
  return PHASES.filter((p) => allowedStep(p, state, role));
}

/** The 409 for a step asked for in a state it is not declared for: what it needs, from the declaration. */
export function refusal(step: Step, rolloutId: number, state: RolloutState): RolloutError {
  return new RolloutError(
    `cannot ${step} rollout ${rolloutId} while it is ${state}; ${step} needs ${declaration(step).from.join(" or ")}`,
    409,
  );
}

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

/**
 * Starts a phase of a rollout for a person: checks the permission, the state and the inputs, records
 * the request in the audit log and queues the work for the job runner, all in one transaction, and
 * returns at once. The work itself never runs in the request.
 */
export async function requestPhase(
  pool: pg.Pool,
  rolloutId: number,
  phase: Phase,
  actor: Actor,
  input: PhaseInput,
  targets: TargetSource,
): Promise<{ message: string }> {
  const declared: PhaseDeclaration = MACHINE[phase];
  authorize(actor, declared.permission);
  const rollout = await getRollout(pool, rolloutId);
  if (!rollout) throw new RolloutError(`rollout ${rolloutId} does not exist`, 404);
  authorizeTarget(actor, rollout.targetId);
  if (input.expectedState && input.expectedState !== rollout.state) {
    throw new RolloutError(`rollout ${rolloutId} is now ${rollout.state} (the page showed ${input.expectedState}); reload before acting`);
  }
  if (!stateAllows(phase, rollout.state)) throw refusal(phase, rolloutId, rollout.state);
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
  if (declared.reasonMin && (input.reason ?? "").length < declared.reasonMin)
    throw new RolloutError(`${phase} needs a reason (at least ${declared.reasonMin} characters)`, 422);
  // Four eyes (invariant 11): whoever lowers a safeguard for a rollout must not be the one who asked for it.
  if ((input.windowOverride || input.promotionWaiver || input.searchPathWaiver) && actor.email === rollout.requestedBy) {
    throw new ForbiddenError("you requested this rollout: an override or waiver for it must come from another person (four eyes)");
  }
  if (input.windowOverride) authorize(actor, "window:override");
  if (input.promotionWaiver) authorize(actor, "promotion:waive");
  if (input.searchPathWaiver) authorize(actor, "searchpath:waive");
  if (phase === "apply") {
    // The window is checked again now: a pre-check from hours ago proves nothing about this minute.
    const target = findTarget(await targets(), rollout.targetId);
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
    if (!stateAllows(phase, locked.state)) throw refusal(phase, rolloutId, locked.state);
    const audit = { ...auditActor(actor), targetId: rollout.targetId, rolloutId, changesetSha256: rollout.changesetSha256 };
    if (!isJobPhase(phase)) {
      // Cancel: a request the running apply reads between statements (lib/rollout/apply.ts).
      await tx.query("UPDATE rollout SET cancel_requested = true, updated_at = now() WHERE id = $1", [rolloutId]);
      await appendAudit(tx, { ...audit, action: `rollout.${phase}`, details: { reason: input.reason ?? null } });
      await appendEvent(tx, rolloutId, "cancel_requested", { by: actor.email });
      return { message: "cancel requested: indexdeck will cancel its own build and clean up" };
    }
    if (declared.running) await move(tx, rolloutId, declared.from, declared.running, { error: null });
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
      await enqueueJob(tx, phase, rolloutId, payload);
    } catch (err) {
      if (err instanceof JobConflictError) throw new RolloutError(err.message);
      throw err;
    }
    await appendAudit(tx, { ...audit, action: `rollout.${phase}.start`, details: payload });
    await appendEvent(tx, rolloutId, "phase_requested", { phase, by: actor.email });
    return { message: `${phase} queued` };
  });
}

/** How a job ended, as the phase's run reports it to `settle`. */
export interface Settlement<P extends JobPhase> {
  job: Job;
  rollout: Pick<Rollout, "id" | "targetId" | "changesetSha256">;
  phase: P;
  outcome: Outcome<P>;
  /** The rollout's error: null clears it, a string sets it; on an outcome that stays, it is prefixed with the phase. */
  error: string | null;
  /** Why, as data: what advice and the API's lastError read (null: no code for it). */
  code?: FailureCode | null;
  /** The job's own error (null: the job did its work, whatever it found). */
  jobError: string | null;
  /** The phase's report, kept on the rollout. */
  report?: { precheck?: PrecheckReport; verify?: VerifyReport };
  /** Details of the `rollout.<phase>.end` audit row. */
  audit: Record<string, unknown>;
  event?: { kind: EventKind; data: Record<string, unknown> };
  /** The phase's own rows (probe samples), written in the same transaction. */
  record?: (tx: pg.ClientBase) => Promise<void>;
}

const SYSTEM = { actor: "indexdeck", role: null };

const FAILED_OUTCOMES: ReadonlySet<string> = new Set(["failed", "error"]);

/**
 * Finishes a job: the job row, the rollout's state (where the declaration leads the outcome) and
 * error, the phase's report and rows, the audit row, the event and any phase queued after it, in one
 * transaction, so that no viewer ever sees one without the others. Webhooks on a phase's end belong
 * here, after the commit, reading the returned transition.
 */
export async function settle<P extends JobPhase>(pool: pg.Pool, s: Settlement<P>): Promise<{ from: RolloutState; to: RolloutState }> {
  const declared: PhaseDeclaration = MACHINE[s.phase];
  const to = declared.on[s.outcome];
  const during = declared.running ? [declared.running] : declared.from;
  return withTransaction(pool, async (tx) => {
    await finishJob(tx, s.job.id, s.jobError);
    await s.record?.(tx);
    const error = s.error !== null && to === STAY ? `${s.phase} failed: ${s.error}` : s.error;
    // An error is the last word on a job: it must not be lost because the rollout moved on meanwhile.
    const patch = { error, errorCode: error === null ? null : (s.code ?? null), ...s.report };
    const moved = await move(tx, s.rollout.id, during, to === STAY ? null : to, patch, s.outcome !== "error");
    await appendAudit(tx, {
      ...SYSTEM,
      targetId: s.rollout.targetId,
      rolloutId: s.rollout.id,
      changesetSha256: s.rollout.changesetSha256,
      action: `rollout.${s.phase}.end`,
      details: s.audit,
    });
    if (s.event) await appendEvent(tx, s.rollout.id, s.event.kind, s.event.data as EventData[EventKind]);
    const next = declared.then?.[s.outcome];
    if (next) await enqueueJob(tx, next as JobPhase, s.rollout.id, { by: SYSTEM.actor });
    // A phase that failed without failing the rollout (pre-check, verify, rollback) is news too.
    if (FAILED_OUTCOMES.has(s.outcome) && moved.to !== "failed") {
      await announceRollout(tx, (await getRollout(tx, s.rollout.id))!, { failedPhase: s.phase, error: s.error });
    }
    return moved;
  });
}

/** Records a person's decision (approve, reject, sign off) in the caller's transaction. */
export async function decide(tx: pg.ClientBase, rolloutId: number, decision: Decision, error?: string): Promise<void> {
  const declared = DECISIONS[decision];
  await move(tx, rolloutId, declared.from, declared.to, error === undefined ? {} : { error, errorCode: null });
}

/**
 * Moves a rollout from one of `from` to `to` (null: the state stays) in the caller's transaction.
 * Strict, it refuses (with the state the rollout is really in) when a stale page or a second click
 * asks for a move already made; otherwise a rollout no longer in `from` is left as it is.
 */
async function move(
  tx: pg.ClientBase,
  id: number,
  from: readonly RolloutState[],
  to: RolloutState | null,
  patch: { error?: string | null; errorCode?: FailureCode | null; precheck?: PrecheckReport; verify?: VerifyReport },
  strict = true,
): Promise<{ from: RolloutState; to: RolloutState }> {
  try {
    const { rows } = await tx.query<{ from: RolloutState; to: RolloutState }>(
      `UPDATE rollout r SET
         state            = coalesce($3, r.state),
         updated_at       = now(),
         error            = CASE WHEN $4::boolean THEN $5 ELSE r.error END,
         error_code       = CASE WHEN $4::boolean THEN $8 ELSE r.error_code END,
         precheck         = coalesce($6, r.precheck),
         verify           = coalesce($7, r.verify),
         cancel_requested = CASE WHEN $3 = 'applying' THEN false ELSE r.cancel_requested END
        FROM rollout old
       WHERE r.id = $1 AND old.id = r.id AND r.state = ANY($2::text[])
       RETURNING old.state AS "from", r.state AS "to"`,
      [id, from, to, patch.error !== undefined, patch.error ?? null, patch.precheck ?? null, patch.verify ?? null, patch.errorCode ?? null],
    );
    if (rows.length) {
      // Webhooks hear of a rollout's new state in the transaction that makes it (lib/webhooks/notify.ts).
      if (rows[0].to !== rows[0].from && isAnnouncedState(rows[0].to)) await announceRollout(tx, (await getRollout(tx, id))!);
      return rows[0];
    }
    const current = await getRollout(tx, id);
    if (!current) throw new RolloutError(`rollout ${id} does not exist`, 404);
    if (strict) throw new RolloutError(`rollout ${id} is ${current.state}; this needs it to be ${from.join(" or ")}`);
    return { from: current.state, to: current.state };
  } catch (err) {
    if ((err as { constraint?: string }).constraint === "rollout_one_active_per_target") {
      throw new RolloutError("another rollout is applying on this target; one apply runs per target at a time");
    }
    throw err;
  }
}
