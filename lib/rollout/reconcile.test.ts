import { spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { startRunner } from "../jobs/runner";
import { buildRolloutReport, reportMarkdown } from "./report";
import { freshDatabase, pgServers } from "../testing/db";
import { eventsAfter } from "./events";
import { runPhaseJob } from "./run-phase";
import { requestPhase } from "./machine";
import { createRollout, rolloutTasks } from "./rollouts";
import { DBA, seedOrders, testTargets, uploadChangeSet, waitForState } from "./testing";
import { fixedTargets } from "../targets/source";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A worker process (`indexdeck worker`) applies a change set whose first build an old snapshot holds in
 * "waiting for old snapshots", and is killed there with SIGKILL. Returns what the takeover then needs.
 */
async function killedMidBuild(server: ReturnType<typeof pgServers>[number]) {
  const storeUrl = await freshDatabase(server);
  const targetUrl = await freshDatabase(server, "empty");
  await seedOrders(targetUrl);
  const targets = testTargets(targetUrl);
  const dir = await mkdtemp(path.join(tmpdir(), "reconcile-"));
  const targetsFile = path.join(dir, "targets.json");
  await writeFile(targetsFile, JSON.stringify({ targets }));
  const pool = new pg.Pool({ connectionString: storeUrl });
  const sql =
    "SET lock_timeout = '60s';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS orders_k1 ON orders (org_id);\nCREATE INDEX CONCURRENTLY IF NOT EXISTS orders_k2 ON orders (status);\n";
  const rollout = await createRollout(
    pool,
    fixedTargets(targets),
    { changesetId: await uploadChangeSet(pool, "kill.sql", sql), targetId: "stage" },
    DBA,
  );

  const holder = new pg.Client({ connectionString: targetUrl });
  await holder.connect();
  await holder.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
  await holder.query("SELECT 1");

  const worker = spawn(process.execPath, ["bin/indexdeck.cjs", "worker"], {
    env: { ...process.env, DATABASE_URL: storeUrl, INDEXDECK_TARGETS: targetsFile },
    stdio: "ignore",
  });
  try {
    await requestPhase(pool, rollout.id, "precheck", DBA, { backupId: "b" }, fixedTargets(targets));
    await waitForState(pool, rollout.id, ["prechecked"]);
    await requestPhase(pool, rollout.id, "apply", DBA, {}, fixedTargets(targets));
    for (let i = 0; ; i++) {
      const waiting = (await eventsAfter(pool, rollout.id, 0)).some(
        (e) => e.kind === "progress" && String(e.data.phase).startsWith("waiting for"),
      );
      if (waiting) break;
      if (i > 300) throw new Error("the build never started waiting");
      await sleep(100);
    }
  } finally {
    worker.kill("SIGKILL");
  }
  const takeOver = () =>
    startRunner({
      pool,
      pollMs: 100,
      // A live worker's heartbeat comes well within the stale time, or it would take its own job over again.
      heartbeatMs: 300,
      staleAfterMs: 1500,
      log: () => undefined,
      handle: (job) => runPhaseJob({ pool, targets: fixedTargets(targets), apply: { pollIntervalMs: 100 } }, job),
    });
  return { pool, rollout, holder, targetUrl, takeOver };
}

describe.each(pgServers())("a server killed mid-build, on $name PostgreSQL", (server) => {
  it("is reconciled on restart: the build still running is followed to its end, no second build starts, the rest completes; the report times it on the target's evidence", async () => {
    const { pool, rollout, holder, takeOver } = await killedMidBuild(server);
    const runner = takeOver();
    let releasedAt = 0;
    try {
      for (let i = 0; ; i++) {
        if ((await eventsAfter(pool, rollout.id, 0)).some((e) => e.kind === "reconcile_follow")) break;
        if (i > 300) throw new Error("reconcile never followed the orphaned build");
        await sleep(100);
      }
      // The takeover delay (1.5 s stale + polling) has passed; the build can end only from here on.
      await sleep(500);
      releasedAt = Date.now();
      await holder.query("COMMIT");
      const state = await waitForState(pool, rollout.id, ["verified", "failed", "verifying"], 60_000);
      // Any failed job is named, so a run that stops short says why.
      const { rows: failedJobs } = await pool.query("SELECT kind, error FROM job WHERE rollout_id = $1 AND state = 'failed'", [rollout.id]);
      expect({ state, failedJobs }).toEqual({ state: "verified", failedJobs: [] });
      const tasks = await rolloutTasks(pool, rollout.id);
      expect(tasks.map((t) => [t.indexName, t.status, t.attempts])).toEqual([
        [null, "done", 0],
        ["orders_k1", "done", 1],
        ["orders_k2", "done", 1],
      ]);
      const events = await eventsAfter(pool, rollout.id, 0);
      const k1Starts = events.filter((e) => e.kind === "statement_start" && e.taskSeq === 1);
      expect(k1Starts).toHaveLength(1);
      expect(events.some((e) => e.kind === "reconcile_task" && String(e.data.outcome).includes("finished valid"))).toBe(true);

      const report = await buildRolloutReport(pool, rollout.id, "admin");
      const [set, k1, k2] = report.tasks;
      // The SET ran again in the new server's session: its time is that run's, not the takeover's.
      expect(set.duration).toMatchObject({ how: "watched" });
      expect(set.duration!.how === "watched" && set.duration!.seconds).toBeLessThan(1);
      // The interrupted build ended on the target once the snapshot was released: its start and end come from
      // the target (query_start; the last look that found it running, the first that found it gone).
      expect(k1.duration).toMatchObject({ how: "target" });
      const d = k1.duration as { fromSeconds: number; toSeconds: number };
      expect(d.toSeconds - d.fromSeconds).toBeLessThan(1);
      const seen = (events.find((e) => e.kind === "reconcile_task" && e.taskSeq === 1)!.data as unknown as { seen: Record<string, string> })
        .seen;
      const endedAt = new Date(seen.goneBy).getTime();
      expect(endedAt).toBeGreaterThanOrEqual(releasedAt - 100);
      expect(endedAt).toBeLessThan(releasedAt + 3000);
      expect(new Date(seen.queryStart).getTime() + d.toSeconds * 1000).toBeCloseTo(endedAt, -1);
      expect(k1.bytes).toBeGreaterThan(0);
      expect(k2.duration).toMatchObject({ how: "watched" });
      // The takeover is an event of the timeline, between the apply's start and its end.
      expect(report.timeline.map((e) => e.kind)).toEqual([
        "phase_start",
        "phase_end",
        "phase_start",
        "takeover",
        "build_followed",
        "build_settled",
        "phase_end",
        "phase_start",
        "phase_end",
      ]);
      const takeover = report.timeline.find((e) => e.kind === "takeover")!;
      expect(takeover.text).toMatch(
        /^takeover: the server running apply \(.+\) stopped; its last heartbeat was at .+ UTC; another server took the apply over after \d+\.\d s without a heartbeat and reconciled from the target$/,
      );
      expect(report.timeline.find((e) => e.kind === "build_settled")!.text).toMatch(
        /^orders_k1: the build outlived the server and finished valid; it ended on the target in the \d+\.\d s before .+ UTC \(the target's clock\), \d+\.\d s at most after its statement began$/,
      );
      const markdown = reportMarkdown(report);
      expect(markdown).toContain("| 2 | orders\\_k1 | done | ");
      expect(markdown).toMatch(
        /\| 2 \| orders\\_k1 \| done \| \d+\.\d–\d+\.\d s \(the target's evidence: no server watched it end\) \| 0 \|/,
      );
      expect(markdown).toContain("**takeover: the server running apply");
    } finally {
      await runner.stop();
      await holder.end().catch(() => undefined);
      await pool.end();
    }
  });

  it("says 'not measured' for a build that ended while no server watched it, with how long it was seen running", async () => {
    const { pool, rollout, holder, targetUrl, takeOver } = await killedMidBuild(server);
    // The build ends on the target before any server takes over.
    await holder.query("COMMIT");
    const target = new pg.Client({ connectionString: targetUrl });
    await target.connect();
    for (let i = 0; ; i++) {
      const { rows } = await target.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()",
        [`indexdeck:${rollout.id}`],
      );
      if (!rows[0].n) break;
      if (i > 300) throw new Error("the orphaned build never ended");
      await sleep(100);
    }
    await target.end();
    const runner = takeOver();
    try {
      expect(await waitForState(pool, rollout.id, ["verified", "failed", "verifying"], 60_000)).toBe("verified");
      const report = await buildRolloutReport(pool, rollout.id, "admin");
      const k1 = report.tasks[1];
      expect(k1.duration).toMatchObject({ how: "not_measured" });
      expect((k1.duration as { atLeastSeconds: number }).atLeastSeconds).toBeGreaterThanOrEqual(0);
      expect(k1.bytes).toBeGreaterThan(0);
      expect(reportMarkdown(report)).toMatch(
        /\| 2 \| orders\\_k1 \| done \| not measured: it ended while no server watched it, after running at least \d+\.\d s \|/,
      );
      expect(report.timeline.find((e) => e.kind === "build_settled")!.text).toMatch(
        /^orders_k1: the build outlived the server and finished valid; it had ended on the target before .+ UTC \(the target's clock\), while no server watched$/,
      );
    } finally {
      await runner.stop();
      await holder.end().catch(() => undefined);
      await pool.end();
    }
  });
});
