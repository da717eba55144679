import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRunner, type Runner } from "../jobs/runner";
import { parseTargetsFile } from "../targets/config";
import { freshDatabase, pgServers } from "../testing/db";
import { runPhaseJob } from "./run-phase";
import { requestPhase } from "./machine";
import { createRollout, getRollout } from "./rollouts";
import { ADMIN, approveByTwo, DBA, DBA2, settledPrecheck, settledVerify, SRE, seedOrders, uploadChangeSet, waitForState } from "./testing";
import { fixedTargets } from "../targets/source";

const SQL =
  "SET lock_timeout = '2s';\nSET statement_timeout = 0;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS orders_override ON orders (org_id, id);\n";

describe.each(pgServers())("maintenance window overrides and promotion waivers on $name PostgreSQL", (server) => {
  let pool: pg.Pool;
  let runner: Runner;
  let targets: ReturnType<typeof parseTargetsFile>;
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: await freshDatabase(server) });
    const url = await freshDatabase(server, "empty");
    await seedOrders(url, 20_000);
    // A one-minute window on a day that is not today: closed for the whole test.
    const closedDay = new Date().getUTCDay() === 0 ? "mon" : "sun";
    targets = parseTargetsFile(
      JSON.stringify({
        targets: [
          {
            id: "prod",
            label: "P",
            environment: "production",
            url,
            approvals: { required: 2, roles: ["dba", "sre", "admin"] },
            maintenanceWindows: [{ days: [closedDay], start: "03:00", end: "03:01", timeZone: "UTC" }],
          },
        ],
      }),
      "t.json",
    );
    runner = startRunner({
      pool,
      pollMs: 100,
      log: () => undefined,
      handle: (job) => runPhaseJob({ pool, targets: fixedTargets(targets) }, job),
    });
  });
  afterAll(async () => {
    await runner.stop();
    await pool.end();
  });

  it("fails pre-check outside the window until a dba overrides in writing; only an admin may waive promotion; both are audited", async () => {
    const r = await createRollout(
      pool,
      fixedTargets(targets),
      { changesetId: await uploadChangeSet(pool, "ovr.sql", SQL), targetId: "prod" },
      DBA2,
    );
    await approveByTwo(pool, fixedTargets(targets), r);
    await requestPhase(pool, r.id, "precheck", DBA, { backupId: "b" }, fixedTargets(targets));
    await waitForState(pool, r.id, ["approved", "prechecked"]);
    const first = (await getRollout(pool, r.id))!.precheck!.checks;
    expect(first.find((c) => c.id === "maintenance-window")).toMatchObject({
      status: "fail",
      summary: expect.stringContaining("outside the maintenance window"),
    });
    expect(first.find((c) => c.id === "promotion")).toMatchObject({ status: "fail" });

    await expect(
      requestPhase(pool, r.id, "precheck", SRE, { backupId: "b", windowOverride: "customer incident needs it now" }, fixedTargets(targets)),
    ).rejects.toThrow(/role sre may not window:override/);
    await expect(
      requestPhase(
        pool,
        r.id,
        "precheck",
        DBA,
        { backupId: "b", windowOverride: "customer incident", promotionWaiver: "staging is down this week" },
        fixedTargets(targets),
      ),
    ).rejects.toThrow(/role dba may not promotion:waive/);
    await requestPhase(
      pool,
      r.id,
      "precheck",
      ADMIN,
      { backupId: "b", windowOverride: "customer incident needs it now", promotionWaiver: "staging is down this week" },
      fixedTargets(targets),
    );
    expect(await settledPrecheck(pool, r.id)).toEqual({ state: "prechecked", error: null, failed: [] });
    const second = (await getRollout(pool, r.id))!.precheck!.checks;
    expect(second.find((c) => c.id === "maintenance-window")).toMatchObject({
      status: "warn",
      summary: expect.stringContaining("overridden by admin: customer incident needs it now"),
    });
    expect(second.find((c) => c.id === "promotion")).toMatchObject({
      status: "warn",
      summary: expect.stringContaining("waived by admin: staging is down this week"),
    });
    const { rows } = await pool.query(
      "SELECT action, actor, details->>'reason' AS reason FROM audit_log WHERE rollout_id = $1 AND action LIKE 'rollout.%.%' AND action NOT LIKE '%.start' AND action NOT LIKE '%.end' ORDER BY id",
      [r.id],
    );
    expect(rows).toEqual([
      { action: "rollout.window.override", actor: "admin", reason: "customer incident needs it now" },
      { action: "rollout.promotion.waive", actor: "admin", reason: "staging is down this week" },
    ]);

    await requestPhase(pool, r.id, "apply", DBA, {}, fixedTargets(targets));
    expect(await settledVerify(pool, r.id)).toEqual({ state: "verified", error: null, failed: [] });
  });

  it("refuses apply outside the window without an override, even after a passing pre-check elsewhere", async () => {
    const r = await createRollout(
      pool,
      fixedTargets(targets),
      { changesetId: await uploadChangeSet(pool, "ovr2.sql", SQL.replace("orders_override", "orders_override2")), targetId: "prod" },
      SRE,
    );
    await approveByTwo(pool, fixedTargets(targets), r);
    await pool.query(`UPDATE rollout SET state = 'prechecked', precheck = '{"ok": true, "at": "x", "checks": []}' WHERE id = $1`, [r.id]);
    await expect(requestPhase(pool, r.id, "apply", DBA, {}, fixedTargets(targets))).rejects.toThrow(
      /outside the maintenance window .* written override/,
    );
    // A summary that merely says "overridden" opens nothing: the gate reads the check's code.
    const worded = {
      ok: true,
      at: "x",
      checks: [
        { id: "maintenance-window", title: "Maintenance window", status: "warn", summary: "outside the window; overridden by nobody" },
      ],
    };
    await pool.query("UPDATE rollout SET precheck = $2 WHERE id = $1", [r.id, JSON.stringify(worded)]);
    await expect(requestPhase(pool, r.id, "apply", DBA, {}, fixedTargets(targets))).rejects.toThrow(
      /outside the maintenance window .* written override/,
    );
  });

  it("refuses an override or waiver from the rollout's own requester, whatever their role (four eyes)", async () => {
    const r = await createRollout(
      pool,
      fixedTargets(targets),
      { changesetId: await uploadChangeSet(pool, "ovr3.sql", SQL.replace("orders_override", "orders_override3")), targetId: "prod" },
      ADMIN,
    );
    await approveByTwo(pool, fixedTargets(targets), r);
    for (const input of [
      { windowOverride: "my own reason to go now" },
      { promotionWaiver: "my own reason to skip staging" },
      { searchPathWaiver: "my own reason to trust the path" },
    ]) {
      await expect(requestPhase(pool, r.id, "precheck", ADMIN, { backupId: "b", ...input }, fixedTargets(targets))).rejects.toMatchObject({
        status: 403,
        message: expect.stringContaining("you requested this rollout"),
      });
    }
    const { rows } = await pool.query("SELECT count(*)::int AS n FROM job WHERE rollout_id = $1", [r.id]);
    expect(rows[0].n).toBe(0);
    await requestPhase(
      pool,
      r.id,
      "precheck",
      DBA,
      { backupId: "b", windowOverride: "another person's reason to go now" },
      fixedTargets(targets),
    );
  });
});
