import type pg from "pg";
import { finishJob, type Job } from "../jobs/queue";
import { quoteQualified } from "../sql/quote";
import { withTransaction } from "../store/pool";
import { sessionsOfApplication } from "../targets/activity";
import { indexState } from "../targets/catalog";
import { changeSetDigest } from "../changeset/store";
import { findTarget, sessionLimits, targetUrl, type TargetConfig } from "../targets/config";
import { targetsWithPolicies } from "../targets/policies";
import { withTargetClient } from "../targets/connect";
import { redactTargetSecrets } from "../targets/display";
import { buildProgress } from "../targets/progress";
import { applyTasks, TargetBusyError, type ApplyOptions, type ApplyResult, type ApplySink } from "./apply";
import { appendEvent } from "./events";
import { ownedPartitionIndexes, partitionRollback, reconcilePartitionStep, recordedPlans } from "./partitions";
import { dropIndexStatement, planChangeSet, planRollback, type PlannedTask, type RollbackIndex } from "./plan";
import { runPrecheck } from "./precheck";
import { withApplySession } from "./session";
import { overallPercent } from "./build-phases";
import { isJobPhase, MACHINE, settle, VERIFIED_STATES } from "./machine";
import { getRollout, rolloutTasks, type Rollout } from "./rollouts";
import { StoreSink } from "./store-sink";
import { runVerify } from "./verify";
import { parseWorkloads } from "./workloads";
import { MIN_P95_SAMPLES, probeLatency, saveProbe, type ProbeOptions } from "../monitor/latency";
import { approvalCount } from "./approvals";

export interface HandlerContext {
  pool: pg.Pool;
  targets?: () => TargetConfig[];
  apply?: Partial<Pick<ApplyOptions, "pollIntervalMs" | "lockRetries" | "backoffMs">>;
  probe?: ProbeOptions;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function applicationName(rolloutId: number): string {
  return `indexdeck:${rolloutId}`;
}

/** Runs one job of the queue to its end and records the outcome with the state change, atomically. */
export async function handleJob(ctx: HandlerContext, job: Job): Promise<void> {
  const phase = job.kind;
  if (!isJobPhase(phase)) return withTransaction(ctx.pool, (tx) => finishJob(tx, job.id, `${phase} is not a rollout phase`));
  const rollout = job.rolloutId === null ? null : await getRollout(ctx.pool, job.rolloutId);
  if (!rollout) return withTransaction(ctx.pool, (tx) => finishJob(tx, job.id, "rollout vanished"));
  const target = findTarget(ctx.targets ? ctx.targets() : await targetsWithPolicies(ctx.pool), rollout.targetId);
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
  try {
    if (job.kind !== "rollback") await checkApproved(ctx.pool, rollout);
    const tasks = await planChangeSet(rollout.changesetName, rollout.changesetSql, target.environment, sessionLimits(target));
    if (job.kind === "precheck") await precheckJob(ctx, job, rollout, target, tasks);
    else if (job.kind === "apply") await applyJob(ctx, job, rollout, target, tasks);
    else if (job.kind === "verify") await verifyJob(ctx, job, rollout, target, tasks);
    else await rollbackJob(ctx, job, rollout, target, tasks);
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
      partitions: { expected: recordedPlans(rollout.precheck), owned: await ownedPartitionIndexes(ctx.pool, rollout.id) },
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

async function finishApply(ctx: HandlerContext, job: Job, rollout: Rollout, result: ApplyResult) {
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
  const partitioned = new Set(recordedPlans(rollout.precheck).map((p) => p.seq));
  for (const t of current.filter((x) => ["building", "waiting_for_lock", "validating"].includes(x.status))) {
    const plan = tasks[t.seq];
    if (partitioned.has(t.seq)) {
      const left = await reconcilePartition(ctx, rollout, target, t.seq, sink);
      if (left) cleaned.push(left);
      continue;
    }
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
        db.query(dropIndexStatement(plan.schemaName, plan.indexName!)),
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
      code: "invalid_index" as const,
      error: `the server stopped mid-build; ${cleaned.join(", ")} was left INVALID and has been dropped`,
      advice: "Run pre-check and apply again; finished indexes are kept.",
    };
  }
  return null;
}

/** A partitioned build interrupted mid-plan: its running step settled from the catalog, the rest resumed by apply. */
async function reconcilePartition(
  ctx: HandlerContext,
  rollout: Rollout,
  target: TargetConfig,
  seq: number,
  sink: StoreSink,
): Promise<string | null> {
  const session = { url: targetUrl(target), searchPath: target.searchPath, connectTimeoutMs: 5000 };
  const app = applicationName(rollout.id);
  const { step, state } = await withApplySession({ ...session, applicationName: `${app}:reconcile` }, (db) =>
    reconcilePartitionStep(ctx.pool, rollout.id, seq, db),
  );
  if (step && state === "invalid") {
    const name = quoteQualified(step.schema, step.index);
    await withApplySession({ ...session, applicationName: `${app}:cleanup` }, (db) =>
      db.query(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`),
    );
    await sink.task(seq, {
      status: "invalid_cleaned",
      finished: true,
      error: "interrupted by a server restart; the partition's INVALID index was dropped",
    });
    await sink.event(
      "invalid_dropped",
      { index: step.index, partition: `${step.schema}.${step.table}`, reason: "left INVALID by the interrupted build" },
      seq,
    );
    return step.index;
  }
  await sink.task(seq, { status: "pending" });
  await sink.event(
    "reconcile_task",
    {
      index: step?.index ?? null,
      partition: step ? `${step.schema}.${step.table}` : null,
      outcome: state === "finished" ? "the partition's build outlived the server and finished valid" : "resumed from the catalog",
    },
    seq,
  );
  return null;
}

async function verifyJob(ctx: HandlerContext, job: Job, rollout: Rollout, target: TargetConfig, tasks: PlannedTask[]) {
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

/** Drops exactly the indexes this rollout created, never ones that existed before it; concurrently wherever PostgreSQL can. */
async function rollbackJob(ctx: HandlerContext, job: Job, rollout: Rollout, target: TargetConfig, tasks: PlannedTask[]) {
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
