import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { changeSetDigest, createChangeSet, getChangeSet, sha256 } from "../changeset/store";
import { startRunner, type Runner } from "../jobs/runner";
import { freshDatabase, pgServers } from "../testing/db";
import { runPhaseJob } from "./run-phase";
import { requestPhase } from "./machine";
import { createRollout, getRollout } from "./rollouts";
import { DBA, settledPrecheck, settledVerify, seedOrders, testTargets, waitForState } from "./testing";
import { WorkloadError } from "./workloads";
import { fixedTargets } from "../targets/source";

const indexSql = (name: string) => `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${name} ON orders (org_id, created_at);\n`;
const patterns = (index: string) =>
  `-- name: latest_by_org\n-- index: ${index}\n-- params: SELECT org_id FROM orders LIMIT 50\nSELECT * FROM orders WHERE org_id = $1 ORDER BY created_at DESC LIMIT 10;\n`;

describe.each(pgServers())("a change set carries its query patterns, on $name PostgreSQL", (server) => {
  let pool: pg.Pool;
  let targetUrl: string;
  let runner: Runner;
  let targets: ReturnType<typeof testTargets>;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: await freshDatabase(server) });
    targetUrl = await freshDatabase(server, "empty");
    await seedOrders(targetUrl, 50_000);
    targets = testTargets(targetUrl);
    runner = startRunner({
      pool,
      pollMs: 100,
      log: () => undefined,
      handle: (job) =>
        runPhaseJob({ pool, targets: fixedTargets(targets), apply: { pollIntervalMs: 100 }, probe: { samples: 5, paceMs: 0 } }, job),
    });
  });
  afterAll(async () => {
    await runner.stop();
    await pool.end();
  });

  const indexExists = async (name: string) => {
    const c = new pg.Client({ connectionString: targetUrl });
    await c.connect();
    try {
      return (await c.query("SELECT to_regclass($1) IS NOT NULL AS e", [name])).rows[0].e as boolean;
    } finally {
      await c.end();
    }
  };

  it("stores an upload's query patterns, hashes them with the SQL, and probes and plan-checks exactly those", async () => {
    const sql = indexSql("orders_carry");
    const workloads = patterns("orders_carry");
    const { changeSet } = await createChangeSet(pool, { name: "carry.sql", sql, workloads }, DBA);
    expect(changeSet.sha256).toBe(changeSetDigest(sql, workloads));
    expect(changeSet.sha256).not.toBe(sha256(sql));
    expect(await getChangeSet(pool, changeSet.id)).toMatchObject({ sql, workloads, sha256: changeSet.sha256 });
    // The same SQL with other query patterns is another change set, with another sha256.
    const other = await createChangeSet(pool, { name: "carry.sql", sql, workloads: workloads.replace("LIMIT 10", "LIMIT 20") }, DBA);
    expect(other.changeSet.sha256).not.toBe(changeSet.sha256);

    const rollout = await createRollout(pool, fixedTargets(targets), { changesetId: changeSet.id, targetId: "stage" }, DBA);
    expect(rollout).toMatchObject({ changesetWorkloads: workloads, changesetSha256: changeSet.sha256 });
    await requestPhase(pool, rollout.id, "precheck", DBA, { backupId: "b" }, fixedTargets(targets));
    expect(await settledPrecheck(pool, rollout.id)).toMatchObject({ state: "prechecked", failed: [] });
    const baseline = (await getRollout(pool, rollout.id))!.precheck!.checks.find((c) => c.id === "latency-baseline")!;
    expect((baseline.evidence as Array<{ workload: string; samples: number }>).map((r) => [r.workload, r.samples])).toEqual([
      ["latest_by_org", 5],
    ]);
    await requestPhase(pool, rollout.id, "apply", DBA, {}, fixedTargets(targets));
    expect(await settledVerify(pool, rollout.id)).toEqual({ state: "verified", error: null, failed: [] });
    expect((await getRollout(pool, rollout.id))!.verify!.plans.map((p) => [p.id, p.status])).toEqual([["plan:latest_by_org", "pass"]]);
  });

  it("gives an upload named like a repository file none of that file's query patterns", async () => {
    // sql/workloads/001_franchise_indexes.sql exists in the checkout; an upload of the same name is not it.
    const { changeSet } = await createChangeSet(pool, { name: "001_franchise_indexes.sql", sql: indexSql("orders_namesake") }, DBA);
    const rollout = await createRollout(pool, fixedTargets(targets), { changesetId: changeSet.id, targetId: "stage" }, DBA);
    await requestPhase(pool, rollout.id, "precheck", DBA, { backupId: "b" }, fixedTargets(targets));
    await waitForState(pool, rollout.id, ["prechecked", "approved"]);
    const baseline = (await getRollout(pool, rollout.id))!.precheck!.checks.find((c) => c.id === "latency-baseline");
    expect(baseline).toMatchObject({ status: "warn", summary: "no query patterns came with this change set: p95 cannot be measured" });
  });

  it("fails the apply, with an audit row and nothing built, when the query patterns were changed after approval", async () => {
    const { changeSet } = await createChangeSet(
      pool,
      { name: "swap.sql", sql: indexSql("orders_swap"), workloads: patterns("orders_swap") },
      DBA,
    );
    const rollout = await createRollout(pool, fixedTargets(targets), { changesetId: changeSet.id, targetId: "stage" }, DBA);
    await requestPhase(pool, rollout.id, "precheck", DBA, { backupId: "b" }, fixedTargets(targets));
    expect(await settledPrecheck(pool, rollout.id)).toMatchObject({ state: "prechecked" });
    // Someone with the store's superuser rights swaps the approved patterns behind indexdeck's back.
    const c = await pool.connect();
    try {
      await c.query("ALTER TABLE rollout DISABLE TRIGGER USER");
      await c.query("UPDATE rollout SET changeset_workloads = $2 WHERE id = $1", [
        rollout.id,
        patterns("orders_swap").replace("LIMIT 50", "LIMIT 50000"),
      ]);
    } finally {
      await c.query("ALTER TABLE rollout ENABLE TRIGGER USER");
      c.release();
    }
    await requestPhase(pool, rollout.id, "apply", DBA, {}, fixedTargets(targets));
    expect(await waitForState(pool, rollout.id, ["failed", "verified", "verifying"])).toBe("failed");
    const {
      rows: [audit],
    } = await pool.query("SELECT details FROM audit_log WHERE action = 'rollout.apply.end' AND rollout_id = $1", [rollout.id]);
    expect(audit.details).toMatchObject({
      ok: false,
      code: "sha256_mismatch",
      error: expect.stringMatching(/SQL and query patterns hash to/),
    });
    expect(await indexExists("orders_swap")).toBe(false);
  });

  it("refuses query patterns that write, or that name an index the change set does not create, storing nothing", async () => {
    const before = (await pool.query("SELECT count(*)::int AS n FROM change_set")).rows[0].n;
    const hostile = patterns("orders_evil").replace("SELECT org_id FROM orders LIMIT 50", "SELECT 1; COMMIT; DROP TABLE orders");
    await expect(createChangeSet(pool, { name: "evil.sql", sql: indexSql("orders_evil"), workloads: hostile }, DBA)).rejects.toThrow(
      new WorkloadError(
        "evil.sql (query patterns):3:22: workload latest_by_org: params: 3 statements; a query pattern is exactly one SELECT",
      ),
    );
    await expect(
      createChangeSet(pool, { name: "elsewhere.sql", sql: indexSql("orders_here"), workloads: patterns("orders_there") }, DBA),
    ).rejects.toThrow(
      "elsewhere.sql (query patterns):2:11: workload latest_by_org names index orders_there, which the change set does not create (it creates orders_here)",
    );
    expect((await pool.query("SELECT count(*)::int AS n FROM change_set")).rows[0].n).toBe(before);
  });
});
