/** The verify phase's job: the checks of lib/rollout/verify.ts on the target, then the p95 after. */
import { saveProbe } from "../../monitor/latency";
import { settle } from "../machine";
import { runVerify } from "../verify";
import { measureLatency, rolloutWorkloads } from "./latency";
import { requireApproved, type PhaseFile, type PhaseJob } from "./phase";

export const guard = requireApproved;

export async function run({ ctx, job, rollout, target, tasks }: PhaseJob): Promise<void> {
  const report = await runVerify(target, tasks, await rolloutWorkloads(rollout));
  const after = report.ok ? await measureLatency(ctx, rollout, target, "after") : { results: [] };
  await settle(ctx.pool, {
    job,
    rollout,
    phase: "verify",
    outcome: report.ok ? "ok" : "failed",
    error: report.ok ? null : "verify found problems",
    jobError: null,
    report: { verify: report },
    record: async (tx) => {
      if (after.results.length) await saveProbe(tx, rollout.id, "after", after.results);
    },
    audit: { ok: report.ok, failed: [...report.indexes, ...report.plans].filter((c) => c.status !== "pass").map((c) => c.id) },
    event: { kind: "verify_done", data: { ok: report.ok } },
  });
}

export const verify: PhaseFile<"verify"> = { phase: "verify", guard, run };
