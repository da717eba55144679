/**
 * Invariant 3: a server restart mid-apply is reconciled from the target (its sessions by
 * application_name, its catalog), never by building again what may still be building.
 */
import { sessionsOfApplication } from "../targets/activity";
import { indexState } from "../targets/catalog";
import type { TargetConfig } from "../targets/config";
import { targetUrl } from "../targets/urls";
import { withTargetClient } from "../targets/connect";
import { buildProgress } from "../targets/progress";
import { quoteQualified } from "../sql/quote";
import { overallPercent } from "./build-phases";
import { reconcilePartitionStep, recordedPlans } from "./partitions";
import { dropIndexStatement, type PlannedTask } from "./plan";
import { applicationName, type PhaseContext } from "./phases/phase";
import { rolloutTasks, type Rollout } from "./rollouts";
import { withApplySession } from "./session";
import type { StoreSink } from "./store-sink";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
export async function reconcileApply(ctx: PhaseContext, rollout: Rollout, target: TargetConfig, tasks: PlannedTask[], sink: StoreSink) {
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
  ctx: PhaseContext,
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
