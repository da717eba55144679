import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ForbiddenError } from "../auth/policy";
import { createRollout } from "../rollout/rollouts";
import { requestPhase } from "../rollout/machine";
import { ADMIN, DBA, SRE, testTargets, uploadChangeSet } from "../rollout/testing";
import { freshDatabase, pgServers } from "../testing/db";
import { approvePolicyChange, changePolicy, policyHistory, policyOf, policyState, withPolicies, type Policy } from "./policies";
import { fixedTargets } from "./source";

const ADMIN2 = { id: 5, email: "admin2", role: "admin" as const };
const SQL = "SET lock_timeout = '2s';\nSET statement_timeout = 0;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS p_idx ON t (x);\n";

describe.each(pgServers())("target policies on $name PostgreSQL", (server) => {
  let pool: pg.Pool;
  const targets = testTargets("postgres://x@127.0.0.1:1/x");
  const base = policyOf(targets[0]);
  const auditRows = async () =>
    (await pool.query("SELECT actor, action, target_id, details FROM audit_log WHERE action = 'policy.change' ORDER BY id")).rows;
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: await freshDatabase(server) });
  });
  afterAll(() => pool.end());

  it("records an admin's change as a new version with its audit row, and the change governs from then on", async () => {
    const policy: Policy = { ...base, approvals: { required: 2, roles: ["dba", "admin"], requesterMayApprove: false } };
    const v = await changePolicy(pool, fixedTargets(targets), ADMIN, {
      targetId: "stage",
      policy,
      reason: "staging now mirrors prod",
      basedOn: 0,
    });
    expect(v).toMatchObject({ targetId: "stage", version: 1, changedBy: "admin" });
    const [row] = await auditRows();
    expect(row).toMatchObject({
      actor: "admin",
      target_id: "stage",
      details: {
        version: 1,
        reason: "staging now mirrors prod",
        before: { approvals: { required: 0 } },
        after: { approvals: { required: 2 } },
      },
    });
    const now = await withPolicies(pool, fixedTargets(targets))();
    expect(now.find((t) => t.id === "stage")!.approvals.required).toBe(2);
    expect(now.find((t) => t.id === "prod")!.approvals.roles).toEqual(["dba", "sre"]); // other targets keep the file's policy
    const rollout = await createRollout(
      pool,
      fixedTargets(now),
      { changesetId: await uploadChangeSet(pool, "p.sql", SQL), targetId: "stage" },
      SRE,
    );
    expect(rollout).toMatchObject({ state: "awaiting_approval", approvalsRequired: 2 });
  });

  it("refuses other roles and stale forms, writing nothing", async () => {
    const before = (await auditRows()).length;
    await expect(
      changePolicy(pool, fixedTargets(targets), DBA, { targetId: "prod", policy: base, reason: "x", basedOn: 0 }),
    ).rejects.toBeInstanceOf(ForbiddenError);
    await expect(
      changePolicy(pool, fixedTargets(targets), ADMIN, { targetId: "stage", policy: base, reason: "from an old tab", basedOn: 0 }),
    ).rejects.toMatchObject({
      status: 409,
      message: expect.stringMatching(/changed since this form was opened \(now version 1 by admin\)/),
    });
    await expect(
      changePolicy(pool, fixedTargets(targets), ADMIN, { targetId: "nowhere", policy: base, reason: "x", basedOn: 0 }),
    ).rejects.toMatchObject({
      status: 404,
    });
    expect((await auditRows()).length).toBe(before);
    expect((await policyHistory(pool, "prod")).length).toBe(0);
  });

  it("lets one of two simultaneous changes win and tells the other", async () => {
    const prodBase = policyOf(targets[1]);
    const results = await Promise.allSettled(
      [1, 2].map((n) =>
        changePolicy(pool, fixedTargets(targets), ADMIN, {
          targetId: "prod",
          policy: { ...prodBase, freezes: n === 1 ? [] : prodBase.freezes },
          reason: `change ${n}`,
          basedOn: 0,
        }),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason.status)).toEqual([409]);
    expect((await policyHistory(pool, "prod")).map((v) => v.version)).toEqual([1]);
  });

  it("keeps versions append-only", async () => {
    await expect(pool.query("UPDATE target_policy SET reason = 'rewritten'")).rejects.toThrow(/append-only/);
    await expect(pool.query("DELETE FROM target_policy")).rejects.toThrow(/append-only/);
  });

  it("refuses an apply during a freeze added in the app", async () => {
    const [v] = await policyHistory(pool, "prod");
    const freeze = {
      from: new Date(Date.now() - 60_000).toISOString(),
      to: new Date(Date.now() + 3_600_000).toISOString(),
      reason: "incident 4711",
    };
    const saved = await changePolicy(pool, fixedTargets(targets), ADMIN, {
      targetId: "prod",
      policy: { ...v.policy, freezes: [freeze] },
      reason: "incident",
      basedOn: v.version,
    });
    await approvePolicyChange(pool, fixedTargets(targets), ADMIN2, { targetId: "prod", version: saved.version });
    const rollout = await createRollout(
      pool,
      withPolicies(pool, fixedTargets(targets)),
      { changesetId: await uploadChangeSet(pool, "f.sql", SQL.replace("p_idx", "f_idx")), targetId: "prod" },
      SRE,
    );
    // A passed pre-check recorded by hand: the freeze must stop the apply on its own.
    await pool.query(`UPDATE rollout SET state = 'prechecked', precheck = '{"ok": true, "checks": []}' WHERE id = $1`, [rollout.id]);
    await expect(requestPhase(pool, rollout.id, "apply", DBA, {}, withPolicies(pool, fixedTargets(targets)))).rejects.toThrow(
      /change freeze until .*incident 4711/,
    );
  });

  it("holds production to two approvers other than the requester, and puts a production change in force only when a second admin approves it", async () => {
    const lowered = (approvals: Policy["approvals"]) =>
      changePolicy(pool, fixedTargets(targets), ADMIN, {
        targetId: "prod",
        policy: { ...policyOf(targets[1]), approvals },
        reason: "just me tonight",
        basedOn: 99,
      });
    for (const approvals of [
      { required: 0 as const, roles: ["dba" as const], requesterMayApprove: false },
      { required: 1 as const, roles: ["dba" as const], requesterMayApprove: false },
      { required: 2 as const, roles: ["dba" as const], requesterMayApprove: true },
    ]) {
      await expect(lowered(approvals)).rejects.toMatchObject({
        status: 422,
        message: expect.stringContaining("a floor no policy can lower"),
      });
    }
    const { latest, version: before } = await policyState(pool, targets[1]);
    const window = { days: ["sat" as const], start: "02:00", end: "03:00", timeZone: "UTC" };
    const saved = await changePolicy(pool, fixedTargets(targets), ADMIN, {
      targetId: "prod",
      policy: { ...policyOf(targets[1]), maintenanceWindows: [window] },
      reason: "weekend only",
      basedOn: latest,
    });
    expect(saved).toMatchObject({ needsApproval: true, approvedBy: null });
    // Pending: the version before still governs, and its author can't put it in force.
    expect((await policyState(pool, targets[1])).version).toBe(before);
    expect((await withPolicies(pool, fixedTargets(targets))()).find((t) => t.id === "prod")!.maintenanceWindows).not.toEqual([window]);
    await expect(
      approvePolicyChange(pool, fixedTargets(targets), ADMIN, { targetId: "prod", version: saved.version }),
    ).rejects.toMatchObject({
      status: 403,
    });
    await expect(
      approvePolicyChange(pool, fixedTargets(targets), DBA, { targetId: "prod", version: saved.version }),
    ).rejects.toBeInstanceOf(ForbiddenError);
    const approved = await approvePolicyChange(pool, fixedTargets(targets), ADMIN2, { targetId: "prod", version: saved.version });
    expect(approved).toMatchObject({ approvedBy: "admin2" });
    expect((await withPolicies(pool, fixedTargets(targets))()).find((t) => t.id === "prod")!.maintenanceWindows).toEqual([window]);
    const { rows } = await pool.query(
      "SELECT actor, details FROM audit_log WHERE action = 'policy.approve' AND target_id = 'prod' ORDER BY id DESC LIMIT 1",
    );
    expect(rows[0]).toMatchObject({ actor: "admin2", details: { version: saved.version, author: "admin" } });
    // Staging changes govern at once.
    const stage = await changePolicy(pool, fixedTargets(targets), ADMIN, {
      targetId: "stage",
      policy: policyOf(targets[0]),
      reason: "back to the file's",
      basedOn: (await policyState(pool, targets[0])).latest,
    });
    expect(stage.needsApproval).toBe(false);
  });
});
