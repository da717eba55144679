import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAudit } from "../audit/verify";
import { startRunner, type Runner } from "../jobs/runner";
import { rolloutMarkers } from "../monitor/usage";
import { freshDatabase, pgServers } from "../testing/db";
import { eventsAfter } from "./events";
import { runPhaseJob } from "./run-phase";
import { requestPhase } from "./machine";
import { createRollout, getRollout, RolloutError, rolloutTasks } from "./rollouts";
import { approveByTwo, DBA, settledPrecheck, settledVerify, SRE, seedOrders, testTargets, uploadChangeSet, waitForState } from "./testing";
import { fixedTargets } from "../targets/source";

const SAFE =
  "SET lock_timeout = '2s';\nSET statement_timeout = 0;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS orders_org_status ON orders (org_id, status, created_at);\n";

describe.each(pgServers())("rollouts through the job runner on $name PostgreSQL", (server) => {
  let pool: pg.Pool;
  let targetUrl: string;
  let runner: Runner;
  let targets: ReturnType<typeof testTargets>;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: await freshDatabase(server) });
    targetUrl = await freshDatabase(server, "empty");
    await seedOrders(targetUrl);
    targets = testTargets(targetUrl);
    runner = startRunner({
      pool,
      pollMs: 100,
      log: () => undefined,
      handle: (job) => runPhaseJob({ pool, targets: fixedTargets(targets), apply: { pollIntervalMs: 100 } }, job),
    });
  });
  afterAll(async () => {
    await runner.stop();
    await pool.end();
  });

  it("runs pre-check → apply → verify on a staging target and records every step", async () => {
    const rollout = await createRollout(
      pool,
      fixedTargets(targets),
      { changesetId: await uploadChangeSet(pool, "flow.sql", SAFE), targetId: "stage" },
      DBA,
    );
    expect(rollout.state).toBe("approved");

    await requestPhase(pool, rollout.id, "precheck", DBA, {}, fixedTargets(targets));
    expect(await waitForState(pool, rollout.id, ["approved", "prechecked"])).toBe("approved");
    const failed = (await getRollout(pool, rollout.id))!.precheck!;
    expect(failed.ok).toBe(false);
    expect(failed.checks.find((c) => c.id === "backup")).toMatchObject({ status: "fail" });
    expect(failed.checks.find((c) => c.id === "server-version")).toMatchObject({ status: "pass" });

    await requestPhase(pool, rollout.id, "precheck", DBA, { backupId: "snap-2026-11-28" }, fixedTargets(targets));
    expect(await settledPrecheck(pool, rollout.id)).toEqual({ state: "prechecked", error: null, failed: [] });
    expect((await getRollout(pool, rollout.id))!.precheck!.checks.find((c) => c.id === "backup")?.summary).toBe(
      "backup snap-2026-11-28 attested by dba",
    );

    await requestPhase(pool, rollout.id, "apply", DBA, { expectedState: "prechecked" }, fixedTargets(targets));
    expect(await settledVerify(pool, rollout.id)).toEqual({ state: "verified", error: null, failed: [] });
    const tasks = await rolloutTasks(pool, rollout.id);
    expect(tasks.map((t) => t.status)).toEqual(["done", "done", "done"]);
    expect(tasks[2]).toMatchObject({ createdByRollout: true, attempts: 1 });
    const kinds = (await eventsAfter(pool, rollout.id, 0)).map((e) => e.kind);
    expect(kinds).toEqual(
      expect.arrayContaining(["created", "phase_requested", "session", "progress", "index_ready", "apply_done", "verify_done"]),
    );
    const verify = (await getRollout(pool, rollout.id))!.verify!;
    expect(verify.indexes[0]).toMatchObject({ status: "pass", title: "orders_org_status" });
    const { rows } = await pool.query("SELECT action FROM audit_log WHERE rollout_id = $1 ORDER BY id", [rollout.id]);
    expect(rows.map((r) => r.action)).toEqual([
      "rollout.create",
      "rollout.precheck.start",
      "rollout.precheck.end",
      "rollout.precheck.start",
      "rollout.precheck.end",
      "rollout.apply.start",
      "rollout.apply.end",
      "rollout.verify.end",
    ]);
    expect((await verifyAudit(pool)).ok).toBe(true);

    // Stale pages and repeated clicks are refused with the reason, and change nothing.
    await expect(requestPhase(pool, rollout.id, "apply", DBA, { expectedState: "prechecked" }, fixedTargets(targets))).rejects.toThrow(
      /is now verified \(the page showed prechecked\)/,
    );
    await expect(requestPhase(pool, rollout.id, "apply", DBA, {}, fixedTargets(targets))).rejects.toThrow(
      /cannot apply rollout \d+ while it is verified/,
    );

    // Rollback needs a reason and drops only what this rollout created.
    await expect(requestPhase(pool, rollout.id, "rollback", SRE, {}, fixedTargets(targets))).rejects.toThrow(/needs a reason/);
    await requestPhase(pool, rollout.id, "rollback", SRE, { reason: "p95 regressed on writes" }, fixedTargets(targets));
    const state = await waitForState(pool, rollout.id, ["rolled_back", "verified"]);
    expect({ state, error: (await getRollout(pool, rollout.id))?.error ?? null }).toEqual({ state: "rolled_back", error: null });
    const t = new pg.Client({ connectionString: targetUrl });
    await t.connect();
    expect((await t.query("SELECT to_regclass('orders_org_status') AS i")).rows[0].i).toBeNull();
    await t.end();
    // Its steps are events numbered on their own (lib/rollout/plan.ts planRollback), never posing as tasks of the rollout.
    const { rows: steps } = await pool.query<{ kind: string; step: number | null; taskSeq: number | null }>(
      `SELECT kind, (data->>'step')::int AS step, task_seq AS "taskSeq"
         FROM rollout_event
        WHERE rollout_id = $1 AND id > (SELECT max(id) FROM rollout_event WHERE rollout_id = $1 AND kind = 'phase_requested')
          AND (kind = 'rollback_task' OR data ? 'step' OR task_seq IS NOT NULL)`,
      [rollout.id],
    );
    expect(steps.length).toBeGreaterThan(0);
    expect(steps.filter((e) => e.taskSeq !== null)).toEqual([]);
    expect([...new Set(steps.map((e) => e.step))].sort()).toEqual([0, 1]);
    // The index's usage chart marks all three moments, in order; another index of the target gets none.
    const markers = await rolloutMarkers(pool, "stage", "orders_org_status", 24);
    expect(markers.map((m) => `${m.rolloutId} ${m.kind}`)).toEqual([
      `${rollout.id} apply started`,
      `${rollout.id} verified`,
      `${rollout.id} rolled back`,
    ]);
    expect(markers.map((m) => m.t)).toEqual([...markers.map((m) => m.t)].sort((a, b) => a - b));
    expect(await rolloutMarkers(pool, "stage", "orders_pkey", 24)).toEqual([]);
  });

  it("refuses a second click on a phase already queued", async () => {
    const r = await createRollout(
      pool,
      fixedTargets(targets),
      { changesetId: await uploadChangeSet(pool, "double.sql", SAFE.replace("orders_org_status", "orders_double")), targetId: "stage" },
      DBA,
    );
    const clicks = await Promise.allSettled([
      requestPhase(pool, r.id, "precheck", DBA, { backupId: "b1" }, fixedTargets(targets)),
      requestPhase(pool, r.id, "precheck", DBA, { backupId: "b1" }, fixedTargets(targets)),
    ]);
    expect(clicks.filter((c) => c.status === "fulfilled")).toHaveLength(1);
    expect(String((clicks.find((c) => c.status === "rejected") as PromiseRejectedResult).reason)).toMatch(
      /already has a phase queued or running/,
    );
    await waitForState(pool, r.id, ["prechecked", "approved"]);
  });

  it("lets one rollout apply per target; a second is refused while the first applies", async () => {
    const a = await createRollout(
      pool,
      fixedTargets(targets),
      {
        changesetId: await uploadChangeSet(pool, "a.sql", SAFE.replace("orders_org_status", "orders_a").replace("created_at)", "id)")),
        targetId: "stage",
      },
      DBA,
    );
    const b = await createRollout(
      pool,
      fixedTargets(targets),
      {
        changesetId: await uploadChangeSet(pool, "b.sql", SAFE.replace("orders_org_status", "orders_b").replace("created_at)", "status)")),
        targetId: "stage",
      },
      DBA,
    );
    for (const r of [a, b]) {
      await requestPhase(pool, r.id, "precheck", DBA, { backupId: "b" }, fixedTargets(targets));
      expect(await waitForState(pool, r.id, ["prechecked", "approved"])).toBe("prechecked");
    }
    // Hold the build with an old snapshot so the first apply is surely still running.
    const holder = new pg.Client({ connectionString: targetUrl });
    await holder.connect();
    await holder.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
    await holder.query("SELECT 1");
    await requestPhase(pool, a.id, "apply", DBA, {}, fixedTargets(targets));
    await expect(requestPhase(pool, b.id, "apply", SRE, {}, fixedTargets(targets))).rejects.toThrow(
      /another rollout is applying on this target/,
    );
    expect((await getRollout(pool, b.id))!.state).toBe("prechecked");
    await holder.query("COMMIT");
    await holder.end();
    expect(await waitForState(pool, a.id, ["verified", "failed"])).toBe("verified");
  });

  it("refuses unknown ids, lint errors and blocking builds on production with a reason", async () => {
    await expect(createRollout(pool, fixedTargets(targets), { changesetId: "db:999999", targetId: "stage" }, DBA)).rejects.toThrow(
      /unknown change set db:999999/,
    );
    await expect(
      createRollout(pool, fixedTargets(targets), { changesetId: "file:001_franchise_indexes.sql", targetId: "nope" }, DBA),
    ).rejects.toThrow(/unknown target nope/);
    const blocking = await uploadChangeSet(
      pool,
      "blocking.sql",
      "-- indexdeck-ignore require-concurrent-index-creation\nCREATE INDEX orders_blocking ON orders (status);\n",
    );
    await expect(createRollout(pool, fixedTargets(targets), { changesetId: blocking, targetId: "prod" }, DBA)).rejects.toThrow(
      /refused on a production target/,
    );
    const linty = await uploadChangeSet(pool, "linty.sql", "BEGIN;\nCREATE INDEX CONCURRENTLY orders_x ON orders (id);\nCOMMIT;\n");
    const err = await createRollout(pool, fixedTargets(targets), { changesetId: linty, targetId: "stage" }, DBA).catch((e) => e);
    expect(err).toBeInstanceOf(RolloutError);
    expect(err.message).toMatch(/2 lint error\(s\), e\.g\. linty\.sql:1:1: transaction-wrapper: BEGIN starts or ends a transaction block/);
    const { rows } = await pool.query("SELECT details FROM audit_log WHERE action = 'rollout.refused' ORDER BY id");
    expect(rows.map((r) => r.details.changeset)).toEqual(["blocking.sql", "linty.sql"]);
  });

  it("requires the same sha256 verified on staging before production passes pre-check", async () => {
    const cs = await uploadChangeSet(pool, "promote.sql", SAFE.replace("orders_org_status", "orders_promote"));
    const prod = await createRollout(pool, fixedTargets(targets), { changesetId: cs, targetId: "prod" }, DBA);
    await approveByTwo(pool, fixedTargets(targets), prod);
    await requestPhase(pool, prod.id, "precheck", SRE, { backupId: "b" }, fixedTargets(targets));
    await waitForState(pool, prod.id, ["approved", "prechecked"]);
    expect((await getRollout(pool, prod.id))!.precheck!.checks.find((c) => c.id === "promotion")).toMatchObject({ status: "fail" });
    // Verified on some other staging target: still not this production target's staging.
    const verifiedOn = (targetId: string) =>
      pool.query(
        `INSERT INTO rollout (changeset_id, changeset_name, changeset_sha256, changeset_sql, target_id, environment, state, approvals_required, requested_by)
       SELECT changeset_id, changeset_name, changeset_sha256, changeset_sql, $2, 'staging', 'verified', 0, 'dba' FROM rollout WHERE id = $1 RETURNING id`,
        [prod.id, targetId],
      );
    await verifiedOn("elsewhere");
    await requestPhase(pool, prod.id, "precheck", SRE, { backupId: "b" }, fixedTargets(targets));
    await waitForState(pool, prod.id, ["approved", "prechecked"]);
    expect((await getRollout(pool, prod.id))!.precheck!.checks.find((c) => c.id === "promotion")).toMatchObject({
      status: "fail",
      summary: expect.stringContaining("not been verified on stage, this target's staging"),
    });
    const {
      rows: [staged],
    } = await verifiedOn("stage");
    await requestPhase(pool, prod.id, "precheck", SRE, { backupId: "b" }, fixedTargets(targets));
    await waitForState(pool, prod.id, ["approved", "prechecked"]);
    expect((await getRollout(pool, prod.id))!.precheck!.checks.find((c) => c.id === "promotion")).toMatchObject({
      status: "pass",
      summary: `same sha256 verified by rollout #${staged.id} on stage`,
    });
  });

  it("cancels a running build on a dba's request: only its own backend, then cleans up and ends cancelled", async () => {
    const r = await createRollout(
      pool,
      fixedTargets(targets),
      {
        changesetId: await uploadChangeSet(
          pool,
          "cancel.sql",
          "SET lock_timeout = '60s';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS orders_cancel ON orders (created_at);\n",
        ),
        targetId: "stage",
      },
      DBA,
    );
    await requestPhase(pool, r.id, "precheck", DBA, { backupId: "b" }, fixedTargets(targets));
    await waitForState(pool, r.id, ["prechecked"]);
    const holder = new pg.Client({ connectionString: targetUrl });
    await holder.connect();
    await holder.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
    await holder.query("SELECT 1");
    try {
      await requestPhase(pool, r.id, "apply", DBA, {}, fixedTargets(targets));
      for (
        let i = 0;
        !(await eventsAfter(pool, r.id, 0)).some((e) => e.kind === "progress" && String(e.data.phase).startsWith("waiting for"));
        i++
      ) {
        if (i > 200) throw new Error("build never waited");
        await new Promise((res) => setTimeout(res, 50));
      }
      await expect(requestPhase(pool, r.id, "cancel", SRE, {}, fixedTargets(targets))).resolves.toMatchObject({
        message: expect.stringContaining("cancel requested"),
      });
      expect(await waitForState(pool, r.id, ["cancelled", "failed", "verified"])).toBe("cancelled");
      expect((await holder.query("SELECT 1 AS alive")).rows[0].alive).toBe(1);
      const kinds = (await eventsAfter(pool, r.id, 0)).map((e) => e.kind);
      expect(kinds).toEqual(expect.arrayContaining(["cancel_requested", "cancel_sent", "invalid_dropped"]));
    } finally {
      await holder.query("ROLLBACK");
      await holder.end();
    }
  });

  it("refuses to apply SQL that changed after approval", async () => {
    const r = await createRollout(
      pool,
      fixedTargets(targets),
      { changesetId: await uploadChangeSet(pool, "changed.sql", SAFE.replace("orders_org_status", "orders_changed")), targetId: "stage" },
      DBA,
    );
    await requestPhase(pool, r.id, "precheck", DBA, { backupId: "b" }, fixedTargets(targets));
    await waitForState(pool, r.id, ["prechecked"]);
    // Someone with superuser rights edits the stored change set behind indexdeck's back.
    const c = await pool.connect();
    await c.query("ALTER TABLE change_set DISABLE TRIGGER USER");
    await c.query(
      "UPDATE change_set SET sql = sql || 'DROP INDEX CONCURRENTLY IF EXISTS orders_pkey;', sha256 = repeat('e', 64) WHERE name = 'changed.sql'",
    );
    await c.query("ALTER TABLE change_set ENABLE TRIGGER USER");
    c.release();
    await expect(requestPhase(pool, r.id, "apply", DBA, {}, fixedTargets(targets))).rejects.toThrow(
      /changed since this rollout was created .* approvals are stale/,
    );
    expect((await getRollout(pool, r.id))!.state).toBe("prechecked");
  });

  it("ends failed with a clear error when the target is unreachable at apply", async () => {
    const r = await createRollout(
      pool,
      fixedTargets(targets),
      { changesetId: await uploadChangeSet(pool, "down.sql", SAFE.replace("orders_org_status", "orders_down")), targetId: "stage" },
      DBA,
    );
    await requestPhase(pool, r.id, "precheck", DBA, { backupId: "b" }, fixedTargets(targets));
    await waitForState(pool, r.id, ["prechecked"]);
    const saved = targets;
    targets = testTargets("postgres://u:secretpw@127.0.0.1:1/gone");
    try {
      await requestPhase(pool, r.id, "apply", DBA, {}, fixedTargets(targets));
      expect(await waitForState(pool, r.id, ["failed", "verified"])).toBe("failed");
      const after = (await getRollout(pool, r.id))!;
      expect(after.error).toMatch(/^cannot connect to the target/);
      expect(after.error).not.toContain("secretpw");
    } finally {
      targets = saved;
    }
  });
});
