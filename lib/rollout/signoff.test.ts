import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRunner, type Runner } from "../jobs/runner";
import { freshDatabase, pgServers } from "../testing/db";
import { runPhaseJob } from "./run-phase";
import { requestPhase } from "./machine";
import { createRollout, getRollout } from "./rollouts";
import { listSignoffs, signOff } from "./signoff";
import { collectTarget } from "../monitor/collector";
import { dueFollowups, resolveFollowups, rolloutFollowups } from "../monitor/followups";
import { DBA, SRE, seedOrders, testTargets, uploadChangeSet, waitForState } from "./testing";
import { fixedTargets } from "../targets/source";

const SQL =
  "SET lock_timeout = '2s';\nSET statement_timeout = 0;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS orders_signoff ON orders (status, org_id);\n";

describe.each(pgServers())("sign-off on $name PostgreSQL", (server) => {
  let pool: pg.Pool;
  let runner: Runner;
  let targets: ReturnType<typeof testTargets>;
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: await freshDatabase(server) });
    const url = await freshDatabase(server, "empty");
    await seedOrders(url, 20_000);
    targets = testTargets(url);
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

  it("records the checklist from evidence and attestations, moves the rollout to signed_off and links the audit row", async () => {
    const r = await createRollout(
      pool,
      fixedTargets(targets),
      { changesetId: await uploadChangeSet(pool, "so.sql", SQL), targetId: "stage" },
      DBA,
    );
    await expect(
      signOff(pool, r.id, DBA, { decision: "signed_off", notes: "", attested: [], changesetSha256: r.changesetSha256 }),
    ).rejects.toThrow(/signoff needs verified/);
    await requestPhase(pool, r.id, "precheck", DBA, { backupId: "snap-9" }, fixedTargets(targets));
    await waitForState(pool, r.id, ["prechecked"]);
    await requestPhase(pool, r.id, "apply", DBA, {}, fixedTargets(targets));
    await waitForState(pool, r.id, ["verified"]);

    await expect(
      signOff(pool, r.id, SRE, { decision: "signed_off", notes: "", attested: [], changesetSha256: "a".repeat(64) }),
    ).rejects.toThrow(/other SQL/);
    const s = await signOff(pool, r.id, SRE, {
      decision: "signed_off_with_follow_ups",
      notes: "<script>alert(1)</script> watch p95",
      attested: ["backup", "rollback-reviewed"],
      changesetSha256: r.changesetSha256,
    });
    expect((await getRollout(pool, r.id))!.state).toBe("signed_off");
    const byId = Object.fromEntries(s.checklist.map((c) => [c.id, c]));
    expect(byId.concurrently).toMatchObject({ ok: true, evidence: "1 of 1 CREATE INDEX statements use CONCURRENTLY" });
    expect(byId["indexes-valid"].ok).toBe(true);
    expect(byId.p95).toMatchObject({ ok: null, evidence: expect.stringContaining("not measured") });
    expect(byId.backup).toMatchObject({
      ok: true,
      evidence: expect.stringContaining("attested by sre; pre-check: backup snap-9 attested by dba"),
    });
    expect(byId["no-error-spikes"]).toMatchObject({ ok: false });
    const {
      rows: [audit],
    } = await pool.query("SELECT action, details FROM audit_log WHERE hash = $1", [s.auditHash]);
    expect(audit.action).toBe("rollout.signoff");
    expect(audit.details.notes).toBe("<script>alert(1)</script> watch p95");
    await expect(
      signOff(pool, r.id, DBA, { decision: "signed_off", notes: "", attested: [], changesetSha256: r.changesetSha256 }),
    ).rejects.toThrow(/while it is signed_off; signoff needs verified/);
    expect((await listSignoffs(pool, { person: "sre", decision: "signed_off_with_follow_ups" })).map((x) => x.id)).toEqual([s.id]);
    expect(await listSignoffs(pool, { person: "dba" })).toEqual([]);

    // Follow-ups: "used within 24 h" resolves from the collector's data; the weekly review comes due.
    expect((await rolloutFollowups(pool, r.id)).map((f) => f.kind)).toEqual(["usage_24h", "sustained_1w", "unused_30d"]);
    const target = targets.find((t) => t.id === "stage")!;
    await collectTarget(pool, target);
    const c = new pg.Client({ connectionString: target.url! });
    await c.connect();
    await c.query("SET enable_seqscan = off");
    await c.query("SELECT * FROM orders WHERE status = 'paid' AND org_id = 3");
    await c.query("SELECT pg_stat_force_next_flush()");
    await c.query("SELECT 1");
    await c.end();
    await collectTarget(pool, target);
    expect(await resolveFollowups(pool)).toBe(1);
    const followups = await rolloutFollowups(pool, r.id);
    expect(followups[0]).toMatchObject({ kind: "usage_24h", evidence: expect.stringMatching(/^orders_signoff: [1-9]\d* scans$/) });
    expect(followups[1].resolvedAt).toBeNull();
    const inEightDays = new Date(Date.now() + 8 * 86_400_000);
    expect((await dueFollowups(pool, inEightDays)).map((f) => f.kind)).toEqual(["sustained_1w"]);
  });
});
