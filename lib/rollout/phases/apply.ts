/**
 * The apply phase's job: the change set's statements run by the apply engine (lib/rollout/apply.ts);
 * a job taken over from a dead server first settles what that server left (lib/rollout/reconcile.ts).
 */
import type { Job } from "../../jobs/queue";
import { targetUrl } from "../../targets/urls";
import { applyTasks, TargetBusyError, type ApplyResult } from "../apply";
import { MACHINE, settle } from "../machine";
import { pacingFor } from "../pacing";
import { ownedPartitionIndexes, recordedPlans } from "../partitions";
import { reconcileApply } from "../reconcile";
import { rolloutTasks, type Rollout } from "../rollouts";
import { StoreSink } from "../store-sink";
import { applicationName, requireApproved, type PhaseContext, type PhaseFile, type PhaseJob } from "./phase";

export const guard = requireApproved;

export async function run({ ctx, job, rollout, target, tasks }: PhaseJob): Promise<void> {
  const sink = new StoreSink(ctx.pool, rollout.id);
  if (job.reclaimed) {
    const outcome = await reconcileApply(ctx, rollout, target, tasks, sink);
    if (outcome) return finishApply(ctx, job, rollout, outcome);
  }
  const finished = (await rolloutTasks(ctx.pool, rollout.id)).filter(
    (t) => t.kind !== "set" && ["done", "skipped_exists"].includes(t.status),
  );
  let result;
  try {
    result = await applyTasks(tasks, sink, {
      url: targetUrl(target),
      applicationName: applicationName(rollout.id),
      targetKey: target.id,
      searchPath: target.searchPath,
      skip: new Set(finished.map((t) => t.seq)),
      partitions: { expected: recordedPlans(rollout.precheck), owned: await ownedPartitionIndexes(ctx.pool, rollout.id) },
      pacing: pacingFor(target),
      ...ctx.apply,
    });
  } catch (err) {
    if (!(err instanceof TargetBusyError)) throw err;
    await settle(ctx.pool, {
      job,
      rollout,
      phase: "apply",
      outcome: "busy",
      error: err.message,
      jobError: err.message,
      audit: { ok: false, error: err.message },
      event: { kind: "target_busy", data: { error: err.message } },
    });
    return;
  }
  await finishApply(ctx, job, rollout, result);
}

async function finishApply(ctx: PhaseContext, job: Job, rollout: Rollout, result: ApplyResult) {
  const outcome = result.ok ? "ok" : result.cancelled ? "cancelled" : "failed";
  await settle(ctx.pool, {
    job,
    rollout,
    phase: "apply",
    outcome,
    error: result.ok ? null : [result.error, result.advice].filter(Boolean).join(" — "),
    code: result.code,
    jobError: result.ok ? null : (result.error ?? "failed"),
    audit: { ok: result.ok, cancelled: !!result.cancelled, error: result.error ?? null },
    event: {
      kind: "apply_done",
      data: { ok: result.ok, state: MACHINE.apply.on[outcome], error: result.error ?? null, advice: result.advice ?? null },
    },
  });
}

export const apply: PhaseFile<"apply"> = { phase: "apply", guard, run };
