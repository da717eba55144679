import pg from "pg";
import { describe, expect, it } from "vitest";
import { ensureChefcloud } from "../demo/chefcloud";
import { startRunner } from "../jobs/runner";
import { runPhaseJob } from "../rollout/run-phase";
import { requestPhase } from "../rollout/machine";
import { eventsAfter } from "../rollout/events";
import { createRollout, getRollout } from "../rollout/rollouts";
import { approveByTwo, DBA, settledVerify, testTargets, waitForState } from "../rollout/testing";
import { parseTargetsFile } from "../targets/config";
import { databaseUrl, freshDatabase, pgServers } from "../testing/db";
import { latencyComparison, probeLatency, sampleNote, saveProbe } from "./latency";
import { withClient } from "../store/pool";
import { fixedTargets } from "../targets/source";

describe.each(pgServers())("measured p95 before and after on $name PostgreSQL", (server) => {
  it("is lower after the seed's indexes for every seed query pattern, by a wide margin", async () => {
    const name = `chef_${Math.random().toString(36).slice(2, 8)}`;
    await ensureChefcloud(
      server.adminUrl,
      (db) => databaseUrl(server, db),
      name,
      100_000,
      () => undefined,
    );
    const targetUrl = databaseUrl(server, name);
    const pool = new pg.Pool({ connectionString: await freshDatabase(server) });
    const targets = testTargets(targetUrl);
    const runner = startRunner({
      pool,
      pollMs: 100,
      log: () => undefined,
      handle: (job) => runPhaseJob({ pool, targets: fixedTargets(targets), probe: { samples: 40, paceMs: 0 } }, job),
    });
    try {
      const r = await createRollout(pool, fixedTargets(targets), { changesetId: "file:001_franchise_indexes.sql", targetId: "stage" }, DBA);
      await requestPhase(pool, r.id, "precheck", DBA, { backupId: "b" }, fixedTargets(targets));
      await waitForState(pool, r.id, ["prechecked"], 60_000);
      await requestPhase(pool, r.id, "apply", DBA, {}, fixedTargets(targets));
      expect(await settledVerify(pool, r.id, 90_000)).toEqual({ state: "verified", error: null, failed: [] });
      const table = await latencyComparison(pool, r.id);
      expect(table.map((t) => t.workload).sort()).toEqual([
        "franchise_budgets",
        "franchise_overview",
        "franchise_rankings",
        "inventory_batches",
        "payments",
        "purchase_orders",
      ]);
      for (const row of table) {
        expect(row.before!.samples, row.workload).toBe(40);
        expect(row.after!.samples, row.workload).toBe(40);
        // Lower p95, and a median at least halved: a wide margin where noise can't make it pass or fail.
        expect(row.after!.p95Ms!, `${row.workload}: p95 ${row.before!.p95Ms} → ${row.after!.p95Ms} ms`).toBeLessThan(row.before!.p95Ms!);
        expect(row.after!.p50Ms!, `${row.workload}: p50 ${row.before!.p50Ms} → ${row.after!.p50Ms} ms`).toBeLessThan(
          row.before!.p50Ms! / 2,
        );
        // The embedded server preloads pg_stat_statements: its means are recorded beside the probe's p95.
        if (server.name === "embedded") expect(row.after!.pgssCalls ?? -1, row.workload).toBeGreaterThanOrEqual(80);
      }
      expect((await getRollout(pool, r.id))!.precheck!.checks.find((c) => c.id === "latency-baseline")).toMatchObject({ status: "pass" });
    } finally {
      await runner.stop();
      await pool.end();
      const admin = new pg.Client({ connectionString: server.adminUrl });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => admin.end());
    }
  }, 180_000);
});

describe.each(pgServers())("latency probe bad input on $name PostgreSQL", (server) => {
  it("reports a failing or timing-out pattern for itself and measures the others", async () => {
    const url = await freshDatabase(server, "empty");
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query("CREATE TABLE t (k int); INSERT INTO t SELECT generate_series(1, 100); CREATE TABLE empty (k int)");
    await c.end();
    const [target] = testTargets(url);
    const w = (name: string, query: string, params = "SELECT k FROM t LIMIT 10") => ({ name, index: "x", paramsQuery: params, query });
    const results = await probeLatency(
      target,
      [
        w("ok", "SELECT * FROM t WHERE k = $1"),
        w("broken", "SELECT nope FROM t WHERE k = $1"),
        w("slow", "SELECT pg_sleep(1) FROM t WHERE k = $1"),
        w("nothing", "SELECT * FROM empty WHERE k = $1", "SELECT k FROM empty"),
        w("ok2", "SELECT count(*) FROM t WHERE k > $1"),
        w("writes", "INSERT INTO t VALUES ($1)"),
      ],
      { samples: 5, statementTimeoutMs: 200, paceMs: 0 },
    );
    const by = Object.fromEntries(results.map((r) => [r.workload, r]));
    expect(by.ok).toMatchObject({ samples: 5, errors: 0, error: null });
    expect(by.broken).toMatchObject({ samples: 0, errors: 5, error: expect.stringContaining("nope") });
    expect(by.slow).toMatchObject({ samples: 0, errors: 5, error: expect.stringContaining("statement timeout") });
    expect(by.nothing.error).toMatch(/no rows to sample/);
    expect(by.ok2).toMatchObject({ samples: 5, errors: 0 });
    // Probes run read-only: a pattern that writes is refused, and the table is as it was.
    expect(by.writes).toMatchObject({ samples: 0, errors: 5, error: expect.stringContaining("read-only transaction") });
    const check = new pg.Client({ connectionString: url });
    await check.connect();
    expect((await check.query("SELECT count(*)::int AS n FROM t")).rows[0].n).toBe(100);
    await check.end();
  });
});

describe.each(pgServers())("latency probes on production on $name PostgreSQL", (server) => {
  it("run only where the target's config opts in, and pre-check says so where it does not", async () => {
    const url = await freshDatabase(server, "empty");
    const pool = new pg.Pool({ connectionString: await freshDatabase(server) });
    const optedIn = parseTargetsFile(
      JSON.stringify({
        targets: [
          {
            id: "prod-probed",
            label: "Prod probed",
            environment: "production",
            url,
            approvals: { required: 2 },
            probes: { enabled: true },
          },
        ],
      }),
      "t.json",
    );
    const targets = [...testTargets(url), ...optedIn];
    const runner = startRunner({
      pool,
      pollMs: 100,
      log: () => undefined,
      handle: (job) => runPhaseJob({ pool, targets: fixedTargets(targets), probe: { samples: 5, paceMs: 0 } }, job),
    });
    try {
      const baseline = async (targetId: string) => {
        const r = await createRollout(pool, fixedTargets(targets), { changesetId: "file:001_franchise_indexes.sql", targetId }, DBA);
        await approveByTwo(pool, fixedTargets(targets), r);
        await requestPhase(pool, r.id, "precheck", DBA, { backupId: "b" }, fixedTargets(targets));
        await waitForState(pool, r.id, ["approved", "prechecked"]);
        const probed = (await eventsAfter(pool, r.id, 0)).some((e) => e.kind === "probe_start");
        return { probed, check: (await getRollout(pool, r.id))!.precheck!.checks.find((c) => c.id === "latency-baseline") };
      };
      expect(await baseline("prod")).toMatchObject({
        probed: false,
        check: {
          status: "warn",
          summary: expect.stringMatching(/not measured: latency probes on this production target are off \(probes.enabled/),
        },
      });
      // Opted in, the probe runs (and here, on a database without the seed's tables, says per pattern why it measured nothing).
      expect(await baseline("prod-probed")).toMatchObject({
        probed: true,
        check: { summary: expect.stringMatching(/^0 of 6 query patterns measured .*failed: .*does not exist/) },
      });
    } finally {
      await runner.stop();
      await pool.end();
    }
  });
});

describe.each(pgServers())("latency probe time budget on $name PostgreSQL", (server) => {
  it("stops each pattern at its share of the budget, records how many samples it got of how many, and says so", async () => {
    const url = await freshDatabase(server, "empty");
    await withClient(url, (c) => c.query("CREATE TABLE t (k int); INSERT INTO t SELECT generate_series(1, 100)"));
    const [target] = testTargets(url);
    const w = (name: string, query: string) => ({ name, index: "x", paramsQuery: "SELECT k FROM t LIMIT 10", query });
    const started = performance.now();
    // 20 ms a query: 10,000 samples would take minutes; the 2 s budget gives each pattern about 1 s.
    const results = await probeLatency(
      target,
      [w("slowish", "SELECT pg_sleep(0.02) FROM t WHERE k = $1"), w("fast", "SELECT pg_sleep(0.005) FROM t WHERE k = $1")],
      { samples: 10_000, paceMs: 0, budgetMs: 2000 },
    );
    expect(performance.now() - started).toBeLessThan(8000);
    const [slow, fast] = results;
    expect(slow).toMatchObject({ samplesWanted: 10_000, budgetCut: true });
    expect(slow.samples).toBeGreaterThan(5);
    expect(slow.samples).toBeLessThan(100);
    expect(fast).toMatchObject({ samplesWanted: 10_000, budgetCut: true });
    expect(sampleNote(slow)).toBe(`${slow.samples} of 10000 (time budget)`);
    expect(sampleNote({ samples: 12, samplesWanted: 12, budgetCut: false })).toBe("12, too few for a reliable p95");
    expect(sampleNote({ samples: 200, samplesWanted: 200, budgetCut: false })).toBe("200");
    // Stored and read back as measured, so the page and the report can say it too.
    const pool = new pg.Pool({ connectionString: await freshDatabase(server) });
    try {
      const {
        rows: [{ id }],
      } = await pool.query(
        `INSERT INTO rollout (changeset_id, changeset_name, changeset_sha256, changeset_sql, target_id, environment, state, approvals_required, requested_by)
         VALUES ('file:x.sql', 'x.sql', repeat('a', 64), 'SELECT 1', 'stage', 'staging', 'verified', 0, 'dba') RETURNING id`,
      );
      await saveProbe(pool, id, "before", results);
      const [row] = (await latencyComparison(pool, id)).filter((l) => l.workload === "slowish");
      expect(row.before).toMatchObject({ samples: slow.samples, samplesWanted: 10_000, budgetCut: true });
    } finally {
      await pool.end();
    }
  });
});
