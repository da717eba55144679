/** The pre-check phase's job: the checks of lib/rollout/precheck.ts against the target, then the p95 baseline. */
import { saveProbe } from "../../monitor/latency";
import { runPrecheck } from "../precheck";
import { settle, VERIFIED_STATES } from "../machine";
import { ownedPartitionIndexes } from "../partitions";
import { measureLatency } from "./latency";
import { requireApproved, type PhaseFile, type PhaseJob } from "./phase";

export const guard = requireApproved;

export async function run({ ctx, job, rollout, target, tasks }: PhaseJob): Promise<void> {
  // Promotion counts only a verification on the staging target this production target names.
  const {
    rows: [staging],
  } = target.stagingTarget
    ? await ctx.pool.query<{ rolloutId: number; targetId: string }>(
        `SELECT id AS "rolloutId", target_id AS "targetId" FROM rollout
      WHERE changeset_sha256 = $1 AND target_id = $2 AND environment = 'staging' AND state = ANY($3::text[])
      ORDER BY id DESC LIMIT 1`,
        [rollout.changesetSha256, target.stagingTarget, VERIFIED_STATES],
      )
    : { rows: [] };
  const p = job.payload as {
    by?: string;
    backupId?: string;
    diskFree?: string;
    windowOverride?: string;
    promotionWaiver?: string;
    searchPathWaiver?: string;
  };
  const report = await runPrecheck({
    target,
    changesetName: rollout.changesetName,
    sql: rollout.changesetSql,
    tasks,
    attestations: {
      backupId: p.backupId,
      diskFree: p.diskFree,
      windowOverride: p.windowOverride,
      promotionWaiver: p.promotionWaiver,
      searchPathWaiver: p.searchPathWaiver,
      by: p.by,
    },
    stagingVerified: staging ?? null,
    ownedPartitionIndexes: await ownedPartitionIndexes(ctx.pool, rollout.id),
  });
  const baseline = await measureLatency(ctx, rollout, target, "before");
  report.checks.push(baseline.check);
  await settle(ctx.pool, {
    job,
    rollout,
    phase: "precheck",
    outcome: report.ok ? "ok" : "failed",
    error: report.ok ? null : "pre-check failed",
    jobError: null,
    report: { precheck: report },
    record: async (tx) => {
      if (baseline.results.length) await saveProbe(tx, rollout.id, "before", baseline.results);
    },
    audit: {
      ok: report.ok,
      failed: report.checks.filter((c) => c.status === "fail").map((c) => c.id),
      attestations: { backupId: p.backupId ?? null, diskFree: p.diskFree ?? null, by: p.by ?? null },
    },
    event: { kind: "precheck_done", data: { ok: report.ok } },
  });
}

export const precheck: PhaseFile<"precheck"> = { phase: "precheck", guard, run };
