import { spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { startRunner } from "../jobs/runner";
import { freshDatabase, pgServers } from "../testing/db";
import { eventsAfter } from "./events";
import { handleJob } from "./handlers";
import { requestPhase } from "./machine";
import { createRollout, rolloutTasks } from "./rollouts";
import { DBA, seedOrders, testTargets, uploadChangeSet, waitForState } from "./testing";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(pgServers())("a server killed mid-build, on $name PostgreSQL", (server) => {
  it("is reconciled on restart: the build still running is followed to its end, no second build starts, the rest completes", async () => {
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
      targets,
      { changesetId: await uploadChangeSet(pool, "kill.sql", sql), targetId: "stage" },
      DBA,
    );

    // An old snapshot holds the first build in "waiting for old snapshots" while we kill the worker.
    const holder = new pg.Client({ connectionString: targetUrl });
    await holder.connect();
    await holder.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
    await holder.query("SELECT 1");

    const worker = spawn(process.execPath, ["bin/indexdeck.mjs", "worker"], {
      env: { ...process.env, DATABASE_URL: storeUrl, INDEXDECK_TARGETS: targetsFile },
      stdio: "ignore",
    });
    try {
      await requestPhase(pool, rollout.id, "precheck", DBA, { backupId: "b" });
      await waitForState(pool, rollout.id, ["prechecked"]);
      await requestPhase(pool, rollout.id, "apply", DBA, {});
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

    const runner = startRunner({
      pool,
      pollMs: 100,
      staleAfterMs: 1500,
      log: () => undefined,
      handle: (job) => handleJob({ pool, targets: () => targets, apply: { pollIntervalMs: 100 } }, job),
    });
    try {
      for (let i = 0; ; i++) {
        if ((await eventsAfter(pool, rollout.id, 0)).some((e) => e.kind === "reconcile_follow")) break;
        if (i > 300) throw new Error("reconcile never followed the orphaned build");
        await sleep(100);
      }
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
    } finally {
      await runner.stop();
      await holder.end().catch(() => undefined);
      await pool.end();
    }
  });
});
