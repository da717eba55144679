/** The rollback phase's job: the one rollback planner (lib/rollout/plan.ts planRollback) run by the apply engine. */
import { targetUrl } from "../../targets/urls";
import { applyTasks, type ApplySink } from "../apply";
import { settle } from "../machine";
import { partitionRollback } from "../partitions";
import { planRollback, type RollbackIndex } from "../plan";
import { rolloutTasks } from "../rollouts";
import { StoreSink } from "../store-sink";
import { applicationName, type PhaseFile, type PhaseJob } from "./phase";

/**
 * None: rollback drops only what this rollout recorded creating, so it must stay possible when the
 * stored SQL no longer matches its approvals (that is when one most wants the indexes gone).
 */
export async function guard(): Promise<void> {}

/** Drops exactly the indexes this rollout created, never ones that existed before it; concurrently wherever PostgreSQL can. */
export async function run({ ctx, job, rollout, target, tasks }: PhaseJob): Promise<void> {
  const partitions = await partitionRollback(ctx.pool, rollout.id);
  // A hand-written ON ONLY parent goes first: a partition's index attached to it can only go with it.
  const created: RollbackIndex[] = [
    ...(await rolloutTasks(ctx.pool, rollout.id))
      .filter((t) => t.createdByRollout && t.indexName && !partitions.seqs.has(t.seq))
      .sort((a, b) => Number(!!tasks[b.seq]?.only) - Number(!!tasks[a.seq]?.only) || a.seq - b.seq)
      .map((t) => ({ ...t, indexName: t.indexName!, partitioned: !!tasks[t.seq]?.only })),
    ...partitions.drops.map((d) => ({ ...d, line: 0 })),
  ];
  const store = new StoreSink(ctx.pool, rollout.id);
  // Rollback steps are not rows of rollout_task: they are events, with the step's number in their data.
  const sink: ApplySink = {
    task: (step, patch) => store.event("rollback_task", { step, ...patch }),
    // Every rollback event carries its step's number beside the kind's own data.
    event: (kind, data, step) => store.event(kind, step === undefined ? data : ({ ...data, step } as typeof data)),
    cancelRequested: async () => false,
  };
  const result = await applyTasks(planRollback(created), sink, {
    url: targetUrl(target),
    applicationName: applicationName(rollout.id),
    targetKey: target.id,
    searchPath: target.searchPath,
    ...ctx.apply,
  });
  await settle(ctx.pool, {
    job,
    rollout,
    phase: "rollback",
    outcome: result.ok ? "ok" : "failed",
    error: result.ok ? null : `${result.error}`,
    code: result.code,
    jobError: result.ok ? null : (result.error ?? "failed"),
    audit: {
      ok: result.ok,
      dropped: created.map((t) => t.indexName),
      reason: (job.payload as { reason?: string }).reason ?? null,
      error: result.error ?? null,
    },
    event: { kind: "rollback_done", data: { ok: result.ok, dropped: created.map((t) => t.indexName) } },
  });
}

export const rollback: PhaseFile<"rollback"> = { phase: "rollback", guard, run };
