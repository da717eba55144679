import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRunner, type Runner } from "../jobs/runner";
import { freshDatabase, pgServers } from "../testing/db";
import { decideRollout } from "./approvals";
import { runPhaseJob } from "./run-phase";
import { requestPhase } from "./machine";
import { createRollout } from "./rollouts";
import { findRollouts, RolloutQuery, rolloutStatus } from "./status";
import { DBA, settledPrecheck, settledVerify, SRE, seedOrders, testTargets, uploadChangeSet, waitForState } from "./testing";
import { fixedTargets } from "../targets/source";

const SAFE = "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS orders_org ON orders (org_id);\n";
const ADMIN = { id: 3, email: "admin", role: "admin" as const };
const DBA2 = { id: 4, email: "dba2", role: "dba" as const };

describe.each(pgServers())("a rollout as scripts read it on $name PostgreSQL", (server) => {
  let pool: pg.Pool;
  let runner: Runner;
  let targets: ReturnType<typeof testTargets>;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: await freshDatabase(server) });
    const targetUrl = await freshDatabase(server, "empty");
    await seedOrders(targetUrl, 20_000);
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

  it("follows a rollout from approval to verified: state, statements with status and progress, approvals", async () => {
    const cs = await uploadChangeSet(pool, "status.sql", SAFE);
    const r = await createRollout(pool, fixedTargets(targets), { changesetId: cs, targetId: "prod" }, SRE);
    const waiting = (await rolloutStatus(pool, r.id))!;
    expect(waiting).toMatchObject({
      id: r.id,
      state: "awaiting_approval",
      targetId: "prod",
      environment: "production",
      requestedBy: "sre",
      approvalsRequired: 2,
      changeset: { id: cs, name: "status.sql", sha256: r.changesetSha256 },
      approvals: [],
      lastError: null,
    });
    expect(waiting.tasks.map((t) => [t.kind, t.status, t.progress])).toEqual([
      ["set", "pending", { phase: null, percent: 0 }],
      ["create_index", "pending", { phase: null, percent: 0 }],
    ]);
    const approve = { decision: "approve" as const, comment: "looks right", changesetSha256: r.changesetSha256, targetId: "prod" };
    await decideRollout(pool, fixedTargets(targets), r.id, DBA, approve);
    await decideRollout(pool, fixedTargets(targets), r.id, DBA2, approve);
    const approved = (await rolloutStatus(pool, r.id))!;
    expect(approved.state).toBe("approved");
    expect(approved.approvals.map((a) => [a.approver, a.approverRole, a.decision, a.comment])).toEqual([
      ["dba", "dba", "approve", "looks right"],
      ["dba2", "dba", "approve", "looks right"],
    ]);

    // Staging first, so production's promotion check passes.
    const staged = await createRollout(pool, fixedTargets(targets), { changesetId: cs, targetId: "stage" }, SRE);
    await requestPhase(pool, staged.id, "precheck", DBA, { backupId: "snap-1" }, fixedTargets(targets));
    expect((await settledPrecheck(pool, staged.id)).state).toBe("prechecked");
    await requestPhase(pool, staged.id, "apply", DBA, {}, fixedTargets(targets));
    expect((await settledVerify(pool, staged.id)).state).toBe("verified");
    const done = (await rolloutStatus(pool, staged.id))!;
    expect(done.state).toBe("verified");
    expect(done.tasks.map((t) => [t.status, t.progress.percent])).toEqual([
      ["done", 100],
      ["done", 100],
    ]);
    expect(done.tasks[1]).toMatchObject({
      indexName: "orders_org",
      attempts: 1,
      startedAt: expect.any(Date),
      finishedAt: expect.any(Date),
      error: null,
    });
  });

  it("gives the last error with its code", async () => {
    const r = await createRollout(
      pool,
      fixedTargets(targets),
      { changesetId: await uploadChangeSet(pool, "skip.sql", SAFE.replace("orders_org", "orders_org2")), targetId: "prod" },
      SRE,
    );
    // Someone with write access to the store marks it approved without the approvals: nothing may run.
    await pool.query("UPDATE rollout SET state = 'approved' WHERE id = $1", [r.id]);
    await requestPhase(
      pool,
      r.id,
      "precheck",
      ADMIN,
      { backupId: "snap-1", promotionWaiver: "hotfix, staging is down" },
      fixedTargets(targets),
    );
    await waitForState(pool, r.id, ["approved"]);
    expect((await rolloutStatus(pool, r.id))!.lastError).toMatchObject({
      code: "approvals_missing",
      phase: "precheck",
      message: expect.stringContaining("0 of 2 approvals"),
    });
  });

  it("lists rollouts by target and state; refuses a state that isn't one, naming the field", async () => {
    const prod = await findRollouts(pool, RolloutQuery.parse({ target: "prod" }));
    expect(prod.length).toBeGreaterThanOrEqual(2);
    expect(prod.every((r) => r.targetId === "prod")).toBe(true);
    expect((await findRollouts(pool, RolloutQuery.parse({ state: "verified" }))).map((r) => r.targetId)).toEqual(["stage"]);
    expect(await findRollouts(pool, RolloutQuery.parse({ target: "prod", state: "verified" }))).toEqual([]);
    const bad = RolloutQuery.safeParse({ state: "done" });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]).toMatchObject({
      path: ["state"],
      message: expect.stringContaining("state must be one of draft, awaiting_approval"),
    });
    expect(RolloutQuery.safeParse({ taget: "prod" }).success).toBe(false);
    expect(await rolloutStatus(pool, 999_999)).toBeNull();
  });
});
