import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Actor } from "../auth/policy";
import { decideRollout } from "../rollout/approvals";
import { createRollout } from "../rollout/rollouts";
import { ADMIN, DBA, DBA2, SRE, uploadChangeSet } from "../rollout/testing";
import { parseTargetsFile, type TargetConfig } from "../targets/config";
import { freshDatabase, pgServers } from "../testing/db";
import { collectTarget } from "./collector";
import { awaitingViewer, fleetOverview } from "./fleet";
import { fixedTargets } from "../targets/source";

const ENGINEER: Actor = { id: 5, email: "eng", role: "engineer" };
const MANAGER: Actor = { id: 6, email: "mgr", role: "manager" };
const SQL =
  "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_org ON orders (org_id);\nCREATE INDEX CONCURRENTLY IF NOT EXISTS orders_id ON orders (id);\n";

describe.each(pgServers())("the home page's data on $name PostgreSQL", (server) => {
  let pool: pg.Pool;
  let targets: TargetConfig[];

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: await freshDatabase(server) });
    const targetDb = await freshDatabase(server, "empty");
    const c = new pg.Client({ connectionString: targetDb });
    await c.connect();
    await c.query("CREATE TABLE orders (id bigint, org_id int); CREATE TABLE dup (v int); INSERT INTO dup VALUES (1), (1)");
    await c.query("CREATE UNIQUE INDEX CONCURRENTLY dup_v ON dup (v)").catch(() => undefined);
    await c.end();
    const down = new URL(targetDb);
    down.port = "1"; // nothing listens there
    const common = { maintenanceWindows: [{ days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], start: "00:00", end: "00:00" }] };
    targets = parseTargetsFile(
      JSON.stringify({
        targets: [
          // Four eyes, dba and sre only.
          { id: "strict", label: "Strict", environment: "staging", url: targetDb, approvals: { required: 2 }, ...common },
          // One approval, and the requester may give it.
          {
            id: "lenient",
            label: "Lenient",
            environment: "staging",
            url: targetDb,
            approvals: { required: 1, requesterMayApprove: true, roles: ["dba"] },
            ...common,
          },
          { id: "down", label: "Down", environment: "staging", url: down.toString(), approvals: { required: 0 }, ...common },
        ],
      }),
      "fleet-targets.json",
    );
  });
  afterAll(() => pool.end());

  const create = async (name: string, targetId: string, by: Actor) =>
    createRollout(pool, fixedTargets(targets), { changesetId: await uploadChangeSet(pool, name, `-- ${name}\n${SQL}`), targetId }, by);

  it("lists for each person only the approvals the target's policy lets them give, and none they already gave", async () => {
    const strict = await create("strict.sql", "strict", DBA);
    const lenient = await create("lenient.sql", "lenient", DBA);
    const ids = async (a: Actor) => (await awaitingViewer(pool, fixedTargets(targets), a)).approvals?.map((r) => r.id) ?? null;
    // The requester may not approve on strict, may on lenient.
    expect(await ids(DBA)).toEqual([lenient.id]);
    // sre is no approver role on lenient.
    expect(await ids(SRE)).toEqual([strict.id]);
    expect(await ids(DBA2)).toEqual([strict.id, lenient.id]);
    // admin is no approver role on either (the policy's default roles are dba and sre).
    expect(await ids(ADMIN)).toEqual([]);
    // Roles that may not approve at all have no such section, not an empty one.
    expect(await ids(ENGINEER)).toBeNull();
    expect(await ids(MANAGER)).toBeNull();
    await decideRollout(pool, fixedTargets(targets), strict.id, SRE, {
      decision: "approve",
      comment: "ok",
      changesetSha256: strict.changesetSha256,
      targetId: "strict",
    });
    expect(await ids(SRE)).toEqual([]);
    expect(await ids(DBA2)).toEqual([strict.id, lenient.id]);
    // A token limited to one target sees only that target's items.
    expect(await ids({ ...DBA2, via: { tokenId: 9, targets: ["lenient"] } })).toEqual([lenient.id]);
  });

  it("gives sign-offs and follow-ups to the roles that act on them, and nothing to an engineer", async () => {
    const r = await create("verified.sql", "down", DBA);
    await pool.query("UPDATE rollout SET state = 'verified' WHERE id = $1", [r.id]);
    expect((await awaitingViewer(pool, fixedTargets(targets), SRE)).signoffs?.map((x) => x.id)).toContain(r.id);
    const eng = await awaitingViewer(pool, fixedTargets(targets), ENGINEER);
    expect(eng).toEqual({ approvals: null, signoffs: null, followups: null });
  });

  it("shows each target's health: reachable and version, collector, INVALID indexes, rollouts in flight with progress, last outcome", async () => {
    await collectTarget(pool, targets[0]);
    await pool.query(
      `INSERT INTO collector_schedule (target_id, last_ok_at, last_error, last_error_at)
       VALUES ('strict', now(), NULL, NULL), ('down', NULL, 'connection refused', now())`,
    );
    const flying = await create("flying.sql", "down", DBA);
    await pool.query("UPDATE rollout SET state = 'applying' WHERE id = $1", [flying.id]);
    // Of two index statements, the first is done and the second is 40% built.
    await pool.query("UPDATE rollout_task SET status = 'done' WHERE rollout_id = $1 AND seq = 0", [flying.id]);
    await pool.query("UPDATE rollout_task SET status = 'building' WHERE rollout_id = $1 AND seq = 1", [flying.id]);
    await pool.query(
      "INSERT INTO rollout_event (rollout_id, kind, task_seq, data) VALUES ($1, 'progress', 1, $2), ($1, 'progress', 1, $3)",
      [flying.id, { percent: 10 }, { percent: 40 }],
    );
    const done = await create("done.sql", "down", DBA);
    await pool.query("UPDATE rollout SET state = 'failed', updated_at = now() + interval '1 second' WHERE id = $1", [done.id]);

    const fleet = await fleetOverview(pool, fixedTargets(targets));
    const strict = fleet.find((t) => t.id === "strict")!;
    expect(strict).toMatchObject({ reachable: true, error: null, invalidIndexes: 1, inFlight: [], lastFinished: null });
    expect(strict.serverVersion).toMatch(/^\d+/);
    expect(strict.collector?.lastOkAt).toBeInstanceOf(Date);
    expect(strict.collector?.failing).toBeNull();
    const down = fleet.find((t) => t.id === "down")!;
    expect(down).toMatchObject({ reachable: false, serverVersion: null, invalidIndexes: 0 });
    expect(down.error).toBeTruthy();
    expect(down.collector?.failing?.error).toBe("connection refused");
    expect(down.inFlight.map((r) => [r.id, r.state, r.percent])).toEqual([[flying.id, "applying", 70]]);
    expect(down.lastFinished).toMatchObject({ id: done.id, state: "failed" });
  });
});
