import type pg from "pg";
import { appendAudit } from "../audit/log";
import { finishJob, enqueueJob, type Job } from "../jobs/queue";
import { quoteQualified } from "../sql/quote";
import { withTransaction } from "../store/pool";
import { sessionsOfApplication } from "../targets/activity";
import { indexState } from "../targets/catalog";
import { changeSetDigest } from "../changeset/catalog";
import { findTarget, sessionLimits, targetUrl, type TargetConfig } from "../targets/config";
import { targetsWithPolicies } from "../targets/policies";
import { withTargetClient } from "../targets/connect";
import { redactTargetSecrets } from "../targets/display";
import { buildProgress } from "../targets/progress";
import { applyTasks, TargetBusyError, type ApplyOptions } from "./apply";
import { appendEvent } from "./events";
import { planChangeSet, type PlannedTask } from "./plan";
import { runPrecheck } from "./precheck";
import { withApplySession } from "./session";
import { overallPercent } from "./progress";
import { getRollout, rolloutTasks, transition, type Rollout, type RolloutState } from "./rollouts";
import { StoreSink } from "./store-sink";
import { runVerify } from "./verify";
import { parseWorkloads } from "./workloads";
import { MIN_P95_SAMPLES, probeLatency, saveProbe, type ProbeOptions } from "../monitor/latency";
import { approvalCount } from "./approvals";
import { announceRollout } from "../webhooks/notify";

export interface HandlerContext {
  pool: pg.Pool;
  targets?: () => TargetConfig[];
  apply?: Partial<Pick<ApplyOptions, "pollIntervalMs" | "lockRetries" | "backoffMs">>;
  probe?: ProbeOptions;
}

const SYSTEM = { actor: "indexdeck", role: null };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function applicationName(rolloutId: number): string {
  return `indexdeck:${rolloutId}`;
}

/** Runs one job of the queue to its end and records the outcome with the state change, atomically. */
export async function handleJob(ctx: HandlerContext, job: Job): Promise<void> {
  const rollout = job.rolloutId === null ? null : await getRollout(ctx.pool, job.rolloutId);
  if (!rollout) return withTransaction(ctx.pool, (tx) => finishJob(tx, job.id, "rollout vanished"));
  const target = findTarget(ctx.targets ? ctx.targets() : await targetsWithPolicies(ctx.pool), rollout.targetId);
  const audit = { ...SYSTEM, targetId: rollout.targetId, rolloutId: rollout.id, changesetSha256: rollout.changesetSha256 };
  if (!target) {
    const error = `target ${rollout.targetId} is no longer configured`;
    return withTransaction(ctx.pool, async (tx) => {
      await finishJob(tx, job.id, error);
      if (rollout.state === "applying") await transition(tx, rollout.id, ["applying"], "failed", { error });
      await appendAudit(tx, { ...audit, action: `rollout.${job.kind}.end`, details: { ok: false, error } });
    });
  }
  await appendEvent(ctx.pool, rollout.id, "phase_start", {
    phase: job.kind,
    attempt: job.attempts,
    reclaimed: job.reclaimed,
    // A takeover is an event of the rollout's history: whose work this server took over, silent since when.
    lostWorker: job.lost?.worker ?? null,
    lastHeartbeatAt: job.lost?.lastHeartbeatAt ?? null,
  });
  try {
    if (job.kind !== "rollback") await checkApproved(ctx.pool, rollout);
    const tasks = await planChangeSet(rollout.changesetName, rollout.changesetSql, target.environment, sessionLimits(target));
    if (job.kind === "precheck") await precheckJob(ctx, job, rollout, target, tasks);
    else if (job.kind === "apply") await applyJob(ctx, job, rollout, target, tasks);
    else if (job.kind === "verify") await verifyJob(ctx, job, rollout, target, tasks);
    else await rollbackJob(ctx, job, rollout, target);
  } catch (err) {
    // Whatever failed, its message goes to events, the rollout and the audit log: never with a secret.
    const error = redactTargetSecrets((err as Error).message, target);
    const code = err instanceof IntegrityError ? err.code : null;
    await appendEvent(ctx.pool, rollout.id, "phase_error", { phase: job.kind, error, code });
    await withTransaction(ctx.pool, async (tx) => {
      await finishJob(tx, job.id, error);
      if (job.kind === "apply") await transition(tx, rollout.id, ["applying"], "failed", { error }).catch(() => undefined);
      else {
        await tx.query("UPDATE rollout SET error = $2, updated_at = now() WHERE id = $1", [rollout.id, `${job.kind} failed: ${error}`]);
        await announceRollout(tx, rollout, { failedPhase: job.kind, error });
      }
      await appendAudit(tx, { ...audit, action: `rollout.${job.kind}.end`, details: { ok: false, error, code } });
    });
  }
}

/** The rollout's SQL is not what was approved: nothing may run. */
export class IntegrityError extends Error {
  constructor(
    readonly code: "sha256_mismatch" | "approvals_missing",
    message: string,
  ) {
    super(message);
  }
}

/**
 * What runs is what was approved (invariant 9), checked again before every phase that touches the
 * target, resumes after a takeover included: the stored SQL and query patterns must hash to the sha256
 * the approvals name, and enough distinct people must have approved that sha256 for this rollout.
 */
async function checkApproved(pool: pg.Pool, rollout: Rollout): Promise<void> {
  const actual = changeSetDigest(rollout.changesetSql, rollout.changesetWorkloads);
  if (actual !== rollout.changesetSha256) {
    throw new IntegrityError(
      "sha256_mismatch",
      `the rollout's SQL and query patterns hash to ${actual.slice(0, 12)}…, not the approved ${rollout.changesetSha256.slice(0, 12)}…: nothing was run`,
    );
  }
  const approvals = await approvalCount(pool, rollout.id, rollout.changesetSha256);
  if (approvals < rollout.approvalsRequired) {
    throw new IntegrityError(
      "approvals_missing",
      `${approvals} of ${rollout.approvalsRequired} approvals of sha256 ${rollout.changesetSha256.slice(0, 12)}… are on record: nothing was run`,
    );
  }
}

async function precheckJob(ctx: HandlerContext, job: Job, rollout: Rollout, target: TargetConfig, tasks: PlannedTask[]) {
  // Promotion counts only a verification on the staging target this production target names.
  const {
    rows: [staging],
  } = target.stagingTarget
    ? await ctx.pool.query<{ rolloutId: number; targetId: string }>(
        `SELECT id AS "rolloutId", target_id AS "targetId" FROM rollout
      WHERE changeset_sha256 = $1 AND target_id = $2 AND environment = 'staging' AND state IN ('verified', 'signed_off')
      ORDER BY id DESC LIMIT 1`,
        [rollout.changesetSha256, target.stagingTarget],
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
  });
  const baseline = await measureLatency(ctx, rollout, target, "before");
  report.checks.push(baseline.check);
  await withTransaction(ctx.pool, async (tx) => {
    await finishJob(tx, job.id, null);
    if (baseline.results.length) await saveProbe(tx, rollout.id, "before", baseline.results);
    const from: RolloutState[] = ["approved", "prechecked", "failed"];
    const settled = await transition(tx, rollout.id, from, report.ok ? "prechecked" : "approved", {
      precheck: report,
      error: report.ok ? null : "pre-check failed",
    });
    if (!report.ok) await announceRollout(tx, settled, { failedPhase: "precheck" });
    await appendAudit(tx, {
      ...SYSTEM,
      targetId: rollout.targetId,
      rolloutId: rollout.id,
      changesetSha256: rollout.changesetSha256,
      action: "rollout.precheck.end",
      details: {
        ok: report.ok,
        failed: report.checks.filter((c) => c.status === "fail").map((c) => c.id),
        attestations: { backupId: p.backupId ?? null, diskFree: p.diskFree ?? null, by: p.by ?? null },
      },
    });
    await appendEvent(tx, rollout.id, "precheck_done", { ok: report.ok });
  });
}

async function applyJob(ctx: HandlerContext, job: Job, rollout: Rollout, target: TargetConfig, tasks: PlannedTask[]) {
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
      ...ctx.apply,
    });
  } catch (err) {
    if (!(err instanceof TargetBusyError)) throw err;
    await sink.event("target_busy", { error: err.message });
    return withTransaction(ctx.pool, async (tx) => {
      await finishJob(tx, job.id, err.message);
      await transition(tx, rollout.id, ["applying"], "prechecked", { error: err.message });
      await appendAudit(tx, {
        ...SYSTEM,
        targetId: rollout.targetId,
        rolloutId: rollout.id,
        changesetSha256: rollout.changesetSha256,
        action: "rollout.apply.end",
        details: { ok: false, error: err.message },
      });
    });
  }
  await finishApply(ctx, job, rollout, result);
}

async function finishApply(
  ctx: HandlerContext,
  job: Job,
  rollout: Rollout,
  result: { ok: boolean; cancelled?: boolean; error?: string; advice?: string },
) {
  await withTransaction(ctx.pool, async (tx) => {
    await finishJob(tx, job.id, result.ok ? null : (result.error ?? "failed"));
    const to: RolloutState = result.ok ? "verifying" : result.cancelled ? "cancelled" : "failed";
    await transition(tx, rollout.id, ["applying"], to, {
      error: result.ok ? null : [result.error, result.advice].filter(Boolean).join(" — "),
    });
    await appendAudit(tx, {
      ...SYSTEM,
      targetId: rollout.targetId,
      rolloutId: rollout.id,
      changesetSha256: rollout.changesetSha256,
      action: "rollout.apply.end",
      details: { ok: result.ok, cancelled: !!result.cancelled, error: result.error ?? null },
    });
    await appendEvent(tx, rollout.id, "apply_done", {
      ok: result.ok,
      state: to,
      error: result.error ?? null,
      advice: result.advice ?? null,
    });
    if (result.ok) await enqueueJob(tx, "verify", rollout.id, { by: "indexdeck" });
  });
}

/**
 * What the target itself showed of a build no server was watching, in the target's own clock: when its
 * statement began (pg_stat_activity.query_start), the last look that found it running and the first that
 * found it gone. Null times where reconcile never saw it running (it ended during the takeover delay).
 */
export interface OrphanedBuildEvidence {
  queryStart: Date | null;
  lastSeenRunningAt: Date | null;
  goneBy: Date;
}

/**
 * After the server that ran an apply died: follow a build still running on the target (found by
 * application_name) to its end without starting another, then settle each interrupted task from the
 * catalog. Returns a final outcome when the apply cannot simply continue, or null to resume it.
 */
async function reconcileApply(ctx: HandlerContext, rollout: Rollout, target: TargetConfig, tasks: PlannedTask[], sink: StoreSink) {
  const app = applicationName(rollout.id);
  await sink.event("reconcile_start", { applicationName: app });
  const seen: OrphanedBuildEvidence = await withTargetClient(
    target,
    async (db) => {
      let queryStart: Date | null = null;
      let lastSeenRunningAt: Date | null = null;
      for (;;) {
        const { observedAt, sessions } = await sessionsOfApplication(db, app);
        if (!sessions.length) return { queryStart, lastSeenRunningAt, goneBy: observedAt };
        for (const s of sessions) {
          const p = await buildProgress(db, s.pid);
          await sink.event("reconcile_follow", {
            pid: s.pid,
            state: s.state,
            phase: p?.phase ?? null,
            percent: p ? overallPercent(p) : null,
            queryStart: s.queryStart,
            observedAt,
          });
        }
        const running = sessions.find((s) => s.state === "active");
        if (running) [queryStart, lastSeenRunningAt] = [running.queryStart, observedAt];
        await sleep(ctx.apply?.pollIntervalMs ?? 500);
      }
    },
    { applicationName: `${app}:reconcile` },
  );
  const current = await rolloutTasks(ctx.pool, rollout.id);
  const cleaned: string[] = [];
  for (const t of current.filter((x) => ["building", "waiting_for_lock", "validating"].includes(x.status))) {
    const plan = tasks[t.seq];
    if (plan.kind !== "create_index") {
      await sink.task(t.seq, { status: "pending" });
      continue;
    }
    const name = quoteQualified(plan.schemaName, plan.indexName!);
    // The apply session's own search_path, so an unqualified name means the index apply built.
    const session = { url: targetUrl(target), searchPath: target.searchPath, connectTimeoutMs: 5000 };
    const state = await withApplySession({ ...session, applicationName: `${app}:reconcile` }, (db) => indexState(db, name));
    if (state.exists && state.valid) {
      // Nobody watched it finish: its end is the target's evidence (seen), not this server's clock.
      await sink.task(t.seq, { status: "done", createdByRollout: true });
      await sink.event(
        "reconcile_task",
        { index: plan.indexName, outcome: "the build outlived the server and finished valid", seen },
        t.seq,
      );
      await sink.event("index_ready", { index: plan.indexName, bytes: state.bytes, definition: state.definition, seen }, t.seq);
    } else if (state.exists) {
      await withApplySession({ ...session, applicationName: `${app}:cleanup` }, (db) =>
        db.query(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`),
      );
      await sink.task(t.seq, { status: "invalid_cleaned", error: "interrupted by a server restart; its INVALID index was dropped" });
      await sink.event("invalid_dropped", { index: plan.indexName, reason: "left INVALID by the interrupted build", seen }, t.seq);
      cleaned.push(plan.indexName!);
    } else {
      await sink.task(t.seq, { status: "pending" });
      await sink.event("reconcile_task", { index: plan.indexName, outcome: "never created; will be built" }, t.seq);
    }
  }
  if (cleaned.length) {
    return {
      ok: false,
      error: `the server stopped mid-build; ${cleaned.join(", ")} was left INVALID and has been dropped`,
      advice: "Run pre-check and apply again; finished indexes are kept.",
    };
  }
  return null;
}

async function verifyJob(ctx: HandlerContext, job: Job, rollout: Rollout, target: TargetConfig, tasks: PlannedTask[]) {
  const report = await runVerify(target, tasks, await rolloutWorkloads(rollout));
  const after = report.ok ? await measureLatency(ctx, rollout, target, "after") : { results: [] };
  await withTransaction(ctx.pool, async (tx) => {
    await finishJob(tx, job.id, null);
    if (after.results.length) await saveProbe(tx, rollout.id, "after", after.results);
    const settled = await transition(tx, rollout.id, ["verifying", "verified"], report.ok ? "verified" : "verifying", {
      verify: report,
      error: report.ok ? null : "verify found problems",
    });
    if (!report.ok) await announceRollout(tx, settled, { failedPhase: "verify" });
    await appendAudit(tx, {
      ...SYSTEM,
      targetId: rollout.targetId,
      rolloutId: rollout.id,
      changesetSha256: rollout.changesetSha256,
      action: "rollout.verify.end",
      details: { ok: report.ok, failed: [...report.indexes, ...report.plans].filter((c) => c.status !== "pass").map((c) => c.id) },
    });
    await appendEvent(tx, rollout.id, "verify_done", { ok: report.ok });
  });
}

/** The query patterns approved with the rollout's SQL (checkApproved re-hashed them), never a file's of the same name. */
function rolloutWorkloads(rollout: Rollout) {
  return parseWorkloads(rollout.changesetName, rollout.changesetWorkloads);
}

/**
 * The p95 of the change set's query patterns on the target, before apply (with pre-check) or after
 * verify. Production targets are probed only when their config opts in.
 */
async function measureLatency(ctx: HandlerContext, rollout: Rollout, target: TargetConfig, phase: "before" | "after") {
  const title = phase === "before" ? "Latency baseline (p95 before)" : "Latency after";
  const workloads = await rolloutWorkloads(rollout);
  if (!workloads.length)
    return {
      results: [],
      check: {
        id: "latency-baseline",
        title,
        status: "warn" as const,
        summary: "no query patterns came with this change set: p95 cannot be measured",
      },
    };
  if (target.environment === "production" && !target.probes.enabled) {
    return {
      results: [],
      check: {
        id: "latency-baseline",
        title,
        status: "warn" as const,
        summary: "not measured: latency probes on this production target are off (probes.enabled in the targets file)",
      },
    };
  }
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

/** Drops, concurrently, exactly the indexes this rollout created, never ones that existed before it. */
async function rollbackJob(ctx: HandlerContext, job: Job, rollout: Rollout, target: TargetConfig) {
  const created = (await rolloutTasks(ctx.pool, rollout.id)).filter((t) => t.createdByRollout && t.indexName);
  const drops: PlannedTask[] = created.map((t, i) => ({
    seq: 1000 + i,
    kind: "drop_index",
    line: t.line,
    indexName: t.indexName,
    schemaName: t.schemaName,
    tableName: t.tableName,
    concurrent: true,
    ifNotExists: true,
    statement: `DROP INDEX CONCURRENTLY IF EXISTS ${quoteQualified(t.schemaName, t.indexName!)}`,
  }));
  const guard: PlannedTask = {
    seq: 999,
    kind: "set",
    statement: "SET lock_timeout = '2s'",
    line: 0,
    indexName: null,
    schemaName: null,
    tableName: null,
    concurrent: false,
    ifNotExists: false,
  };
  const store = new StoreSink(ctx.pool, rollout.id);
  // Rollback steps are not rows of rollout_task; they are reported as events.
  const sink = {
    task: (seq: number, patch: object) => store.event("rollback_task", { ...patch }, seq),
    event: store.event.bind(store),
    cancelRequested: async () => false,
  };
  const result = await applyTasks([guard, ...drops], sink, {
    url: targetUrl(target),
    applicationName: applicationName(rollout.id),
    targetKey: target.id,
    searchPath: target.searchPath,
    ...ctx.apply,
  });
  await withTransaction(ctx.pool, async (tx) => {
    await finishJob(tx, job.id, result.ok ? null : (result.error ?? "failed"));
    if (result.ok)
      await transition(tx, rollout.id, ["verifying", "verified", "failed", "cancelled", "signed_off"], "rolled_back", { error: null });
    else {
      await tx.query("UPDATE rollout SET error = $2, updated_at = now() WHERE id = $1", [rollout.id, `rollback failed: ${result.error}`]);
      await announceRollout(tx, rollout, { failedPhase: "rollback", error: result.error });
    }
    await appendAudit(tx, {
      ...SYSTEM,
      targetId: rollout.targetId,
      rolloutId: rollout.id,
      changesetSha256: rollout.changesetSha256,
      action: "rollout.rollback.end",
      details: {
        ok: result.ok,
        dropped: created.map((t) => t.indexName),
        reason: (job.payload as { reason?: string }).reason ?? null,
        error: result.error ?? null,
      },
    });
    await appendEvent(tx, rollout.id, "rollback_done", { ok: result.ok, dropped: created.map((t) => t.indexName) });
  });
}
