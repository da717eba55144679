/**
 * The p95 step pre-check (before) and verify (after) both take: one file, so both measure alike.
 */
import { MIN_P95_SAMPLES, probeLatency } from "../../monitor/latency";
import type { TargetConfig } from "../../targets/config";
import { appendEvent } from "../events";
import type { Rollout } from "../rollouts";
import { parseWorkloads } from "../workloads";
import type { PhaseContext } from "./phase";

/** The query patterns approved with the rollout's SQL (checkApproved re-hashed them), never a file's of the same name. */
export function rolloutWorkloads(rollout: Rollout) {
  return parseWorkloads(rollout.changesetName, rollout.changesetWorkloads);
}

/**
 * The p95 of the change set's query patterns on the target, before apply (with pre-check) or after
 * verify. Production targets are probed only when their config opts in.
 */
export async function measureLatency(ctx: PhaseContext, rollout: Rollout, target: TargetConfig, phase: "before" | "after") {
  const title = phase === "before" ? "Latency baseline (p95 before)" : "Latency after";
  const workloads = await rolloutWorkloads(rollout);
  const unmeasured = !workloads.length
    ? "no query patterns came with this change set: p95 cannot be measured"
    : target.environment === "production" && !target.probes.enabled
      ? "not measured: latency probes on this production target are off (probes.enabled in the targets file)"
      : null;
  if (unmeasured) return { results: [], check: { id: "latency-baseline", title, status: "warn" as const, summary: unmeasured } };
  await appendEvent(ctx.pool, rollout.id, "probe_start", { phase, workloads: workloads.length });
  const budgetMs = target.probes.budgetSeconds * 1000;
  const results = await probeLatency(target, workloads, { budgetMs, ...ctx.probe });
  await appendEvent(ctx.pool, rollout.id, "probe_done", {
    phase,
    results: results.map((r) => ({
      workload: r.workload,
      p95Ms: r.p95Ms,
      samples: r.samples,
      samplesWanted: r.samplesWanted,
      budgetCut: r.budgetCut,
      errors: r.errors,
    })),
  });
  const failed = results.filter((r) => r.error && !r.samples);
  const cut = results.filter((r) => r.budgetCut);
  const few = results.filter((r) => r.samples > 0 && r.samples < MIN_P95_SAMPLES);
  const notes = [
    failed.length ? `failed: ${failed.map((f) => `${f.workload} (${f.error})`).join(", ")}` : null,
    cut.length
      ? `the ${budgetMs / 1000} s time budget cut ${cut.map((r) => `${r.workload} to ${r.samples} of ${r.samplesWanted} samples`).join(", ")}`
      : null,
    few.length ? `fewer than ${MIN_P95_SAMPLES} samples (p95 unreliable): ${few.map((r) => r.workload).join(", ")}` : null,
  ].filter(Boolean);
  return {
    results,
    check: {
      id: "latency-baseline",
      title,
      status: failed.length || few.length ? ("warn" as const) : ("pass" as const),
      summary: `${results.length - failed.length} of ${results.length} query patterns measured (${results[0]?.samplesWanted ?? 0} samples each wanted)${notes.length ? `; ${notes.join("; ")}` : ""}`,
      evidence: results,
    },
  };
}
