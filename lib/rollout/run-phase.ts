/**
 * The job runner's side of a rollout: looks the job's phase up in the machine (lib/rollout/machine.ts)
 * and its file under lib/rollout/phases/, checks the phase's guard and runs it. Whatever the run
 * throws ends the job as an `error` outcome, through `settle` like every other end.
 */
import { finishJob, type Job } from "../jobs/queue";
import { withTransaction } from "../store/pool";
import { findTarget } from "../targets/config";
import { sessionLimits } from "../targets/limits";
import { redactTargetSecrets } from "../targets/display";
import { appendEvent } from "./events";
import { isJobPhase, settle, type JobPhase } from "./machine";
import { planChangeSet } from "./plan";
import { getRollout } from "./rollouts";
import { apply } from "./phases/apply";
import { IntegrityError, type PhaseContext, type PhaseFile } from "./phases/phase";
import { precheck } from "./phases/precheck";
import { rollback } from "./phases/rollback";
import { verify } from "./phases/verify";

/** Every phase the machine declares a job for has its file: a phase added there without one fails to compile. */
const PHASE_FILES: { [P in JobPhase]: PhaseFile<P> } = { precheck, apply, verify, rollback };

/** Runs one job of the queue to its end and records the outcome with the state change, atomically. */
export async function runPhaseJob(ctx: PhaseContext, job: Job): Promise<void> {
  const phase = job.kind;
  if (!isJobPhase(phase)) return withTransaction(ctx.pool, (tx) => finishJob(tx, job.id, `${phase} is not a rollout phase`));
  const rollout = job.rolloutId === null ? null : await getRollout(ctx.pool, job.rolloutId);
  if (!rollout) return withTransaction(ctx.pool, (tx) => finishJob(tx, job.id, "rollout vanished"));
  const target = findTarget(await ctx.targets(), rollout.targetId);
  if (!target) {
    const error = `target ${rollout.targetId} is no longer configured`;
    await settle(ctx.pool, { job, rollout, phase, outcome: "error", error, jobError: error, audit: { ok: false, error } });
    return;
  }
  await appendEvent(ctx.pool, rollout.id, "phase_start", {
    phase,
    attempt: job.attempts,
    reclaimed: job.reclaimed,
    // A takeover is an event of the rollout's history: whose work this server took over, silent since when.
    lostWorker: job.lost?.worker ?? null,
    lastHeartbeatAt: job.lost?.lastHeartbeatAt ?? null,
  });
  const file: PhaseFile<JobPhase> = PHASE_FILES[phase];
  try {
    await file.guard(ctx.pool, rollout);
    const tasks = await planChangeSet(rollout.changesetName, rollout.changesetSql, target.environment, sessionLimits(target));
    await file.run({ ctx, job, rollout, target, tasks });
  } catch (err) {
    // Whatever failed, its message goes to events, the rollout and the audit log: never with a secret.
    const error = redactTargetSecrets((err as Error).message, target);
    const code = err instanceof IntegrityError ? err.code : null;
    await settle(ctx.pool, {
      job,
      rollout,
      phase,
      outcome: "error",
      error,
      code,
      jobError: error,
      audit: { ok: false, error, code },
      event: { kind: "phase_error", data: { phase, error, code } },
    });
  }
}
