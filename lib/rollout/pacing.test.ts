import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseTargetsFile, type TargetConfig } from "../targets/config";
import { sessionLimits } from "../targets/limits";
import { startReplicaPair, type ReplicaPair } from "../testing/replica";
import { applyTasks, type ApplyResult } from "./apply";
import { pausedPhase } from "./event-text";
import { MemorySink } from "./memory-sink";
import { pacingFor, type Pacing } from "./pacing";
import { planChangeSet, PlanError } from "./plan";
import { until } from "../testing/until";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function client(url: string, name = "pacing-test"): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url, application_name: name });
  c.on("error", () => undefined);
  await c.connect();
  return c;
}

async function run(url: string, sql: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const c = await client(url);
  try {
    return await c.query(sql, values);
  } finally {
    await c.end();
  }
}

const indexExists = async (url: string, name: string) =>
  (await run(url, "SELECT to_regclass($1) IS NOT NULL AS e", [name])).rows[0].e as boolean;

describe("builds that pace themselves (a real primary and streaming replica, system PostgreSQL binaries)", () => {
  let pair: ReplicaPair;
  let primary: string;

  /** The target as the targets file gives it: its replica, and this apply section. */
  function target(apply: Record<string, unknown>): TargetConfig {
    const [t] = parseTargetsFile(
      JSON.stringify({
        targets: [
          {
            id: "orders_prod",
            label: "Orders",
            environment: "staging",
            url: primary,
            approvals: { required: 0 },
            replicas: [{ id: "orders_prod_r1", url: pair.replicaUrl() }],
            apply: { recheckSeconds: 0.2, ...apply },
          },
        ],
      }),
      "pacing.test",
    );
    return t;
  }

  async function startApply(
    sql: string,
    pacing: Pacing,
    sink = new MemorySink(),
  ): Promise<{ sink: MemorySink; result: Promise<ApplyResult> }> {
    const tasks = await planChangeSet("paced.sql", sql, "production");
    const result = applyTasks(tasks, sink, {
      url: primary,
      applicationName: `indexdeck:pacing-${Math.random().toString(36).slice(2, 8)}`,
      targetKey: "orders_prod",
      pollIntervalMs: 50,
      pacing,
    });
    return { sink, result };
  }

  beforeAll(async () => {
    pair = await startReplicaPair();
    primary = pair.primaryUrl();
    // A table big enough for a parallel build: parallel_workers lets the planner use workers at any size.
    await run(
      primary,
      `CREATE TABLE t (id int, k int, v text) WITH (parallel_workers = 2);
       INSERT INTO t SELECT g, g % 1000, md5(g::text) FROM generate_series(1, 300000) g;`,
    );
    // VACUUM and ALTER SYSTEM refuse a multi-statement string (its implicit transaction).
    await run(primary, "VACUUM ANALYZE t");
    await run(primary, "ALTER SYSTEM SET autovacuum_naptime = '1s'");
    await run(primary, "SELECT pg_reload_conf()");
    await pair.caughtUp();
  });

  afterAll(async () => {
    await pair?.stop();
  });

  it("pins the target's workers and memory on the build session: a RESET in the change set returns to them, and the build runs without parallel workers", async () => {
    // Counts the build's parallel workers as pg_stat_activity shows them (leader_pid = the apply session).
    async function buildWorkers(apply: Record<string, unknown>, index: string) {
      const watcher = await client(primary, "pacing-test-watch");
      const { sink, result } = await startApply(
        `RESET max_parallel_maintenance_workers;\nRESET maintenance_work_mem;\nCREATE INDEX CONCURRENTLY ${index} ON t (v);\n`,
        pacingFor(target(apply)),
      );
      const session = await until(() => sink.events.find((e) => e.kind === "session"), "the apply session");
      const pid = session.kind === "session" ? session.data.pid : 0;
      let most = 0;
      let done = false;
      void result.finally(() => (done = true));
      while (!done) {
        const { rows } = await watcher.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'parallel worker' AND leader_pid = $1",
          [pid],
        );
        most = Math.max(most, rows[0].n);
        await sleep(5);
      }
      await watcher.end();
      expect(await result).toEqual({ ok: true });
      return { most, settings: session.kind === "session" ? session.data.settings : {} };
    }

    const gentle = await buildWorkers({ maxParallelMaintenanceWorkers: 0, maintenanceWorkMem: "64MB" }, "t_v_gentle");
    expect(gentle.settings).toMatchObject({ max_parallel_maintenance_workers: "0", maintenance_work_mem: "64MB" });
    expect(gentle.most).toBe(0);
    // The control: the same build with workers allowed does use them, so the count above can see them.
    const parallel = await buildWorkers({ maxParallelMaintenanceWorkers: 2 }, "t_v_parallel");
    expect(parallel.settings).toMatchObject({ max_parallel_maintenance_workers: "2" });
    expect(parallel.most).toBeGreaterThan(0);
  });

  it("refuses a change set that SETs more workers or memory than the target's apply settings allow", async () => {
    const limits = sessionLimits(target({ maxParallelMaintenanceWorkers: 0, maintenanceWorkMem: "64MB" }));
    await expect(planChangeSet("harsh.sql", "SET max_parallel_maintenance_workers = 2;\n", "production", limits)).rejects.toThrow(
      /max_parallel_maintenance_workers 2 is above this target's limit of 0/,
    );
    await expect(planChangeSet("harsh.sql", "SET maintenance_work_mem = '256MB';\n", "production", limits)).rejects.toThrow(PlanError);
    // Gentler than the target is fine.
    await expect(planChangeSet("gentle.sql", "SET maintenance_work_mem = '32MB';\n", "production", limits)).resolves.toHaveLength(1);
  });

  it("pauses while a replica's replay lags more than the limit, says which and by how much, and resumes by itself when it catches up", async () => {
    await run(pair.replicaUrl(), "SELECT pg_wal_replay_pause()");
    await run(primary, "CREATE TABLE lag_writes (x int); INSERT INTO lag_writes VALUES (1)");
    await sleep(1500);
    const { sink, result } = await startApply(
      "CREATE INDEX CONCURRENTLY t_k_lag ON t (k);\n",
      pacingFor(target({ pauseWhen: { replicaLagSeconds: 1 } })),
    );
    const paused = await until(() => sink.events.find((e) => e.kind === "paused"), "a pause");
    expect(paused.kind === "paused" && paused.data.reasons).toEqual([
      { code: "replica_lag", node: "orders_prod_r1", lagSeconds: expect.any(Number), limitSeconds: 1 },
    ]);
    expect(paused.kind === "paused" && pausedPhase(paused.data.reasons)).toMatch(/^paused: orders_prod_r1 lag \d+ s > 1 s$/);
    await sleep(600); // several rechecks: still held back, nothing started
    expect(sink.kinds()).not.toContain("statement_start");
    expect(await indexExists(primary, "t_k_lag")).toBe(false);

    await run(pair.replicaUrl(), "SELECT pg_wal_replay_resume()");
    expect(await result).toEqual({ ok: true });
    const kinds = sink.kinds();
    expect(kinds.indexOf("resumed")).toBeGreaterThan(kinds.indexOf("paused"));
    expect(kinds.indexOf("statement_start")).toBeGreaterThan(kinds.indexOf("resumed"));
    expect(await indexExists(primary, "t_k_lag")).toBe(true);
  });

  it("pauses while more sessions are active than the limit, and resumes when they end", async () => {
    const busy = await Promise.all([1, 2, 3].map(() => client(primary, "pacing-test-busy")));
    const sleeping = busy.map((c) => c.query("SELECT pg_sleep(60)").catch(() => undefined));
    await until(
      async () =>
        (
          await run(
            primary,
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'pacing-test-busy' AND state = 'active'",
          )
        ).rows[0].n === 3,
      "three busy sessions",
    );
    const { sink, result } = await startApply(
      "CREATE INDEX CONCURRENTLY t_k_busy ON t (k);\n",
      pacingFor(target({ pauseWhen: { activeConnections: 2 } })),
    );
    const paused = await until(() => sink.events.find((e) => e.kind === "paused"), "a pause");
    expect(paused.kind === "paused" && paused.data.reasons).toEqual([{ code: "active_connections", active: 3, limit: 2 }]);
    expect(paused.kind === "paused" && pausedPhase(paused.data.reasons)).toBe("paused: 3 active connections > 2");

    await run(primary, "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'pacing-test-busy'");
    await Promise.all(sleeping);
    await Promise.all(busy.map((c) => c.end()));
    expect(await result).toEqual({ ok: true });
    expect(sink.kinds()).toContain("resumed");
    expect(await indexExists(primary, "t_k_busy")).toBe(true);
  });

  it("ends a paused apply on a cancel request, the way a cancelled build ends, with nothing built", async () => {
    const busy = await Promise.all([1, 2].map(() => client(primary, "pacing-test-busy")));
    const sleeping = busy.map((c) => c.query("SELECT pg_sleep(60)").catch(() => undefined));
    const { sink, result } = await startApply(
      "CREATE INDEX CONCURRENTLY t_k_cancel ON t (k);\n",
      pacingFor(target({ pauseWhen: { activeConnections: 1 }, recheckSeconds: 30 })),
    );
    await until(() => sink.events.find((e) => e.kind === "paused"), "a pause");
    const asked = Date.now();
    sink.cancel = true;
    expect(await result).toMatchObject({ ok: false, cancelled: true, code: "cancelled" });
    // Within the half-second cancel check, not the 30 s recheck.
    expect(Date.now() - asked).toBeLessThan(3000);
    expect(sink.tasks.get(0)).toMatchObject({ status: "failed", error: "cancelled by request" });
    expect(sink.kinds()).toContain("cancelled");
    expect(sink.kinds()).not.toContain("statement_start");
    expect(await indexExists(primary, "t_k_cancel")).toBe(false);
    await run(primary, "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'pacing-test-busy'");
    await Promise.all(sleeping);
    await Promise.all(busy.map((c) => c.end()));
  });

  it("pauses while an anti-wraparound autovacuum runs on the table about to be indexed, and resumes when it is done", async () => {
    // A table that reaches its (lowest allowed) freeze age after 100,000 transactions, vacuumed slowly:
    // autovacuum_enabled = false leaves only the anti-wraparound vacuum, which runs regardless.
    await run(
      primary,
      `CREATE TABLE w (id int, v text) WITH (autovacuum_enabled = false, autovacuum_freeze_max_age = 100000,
                                             autovacuum_vacuum_cost_delay = 20, autovacuum_vacuum_cost_limit = 1);
       INSERT INTO w SELECT g, md5(g::text) FROM generate_series(1, 8000) g;
       CREATE PROCEDURE burn_xids(n int) LANGUAGE plpgsql AS $$
       BEGIN
         FOR i IN 1..n LOOP PERFORM txid_current(); COMMIT; END LOOP;
       END $$;`,
    );
    // On its own: a procedure commits only outside the implicit transaction of a multi-statement query.
    await run(primary, "CALL burn_xids(101000)");
    const vacuuming = await until(
      async () =>
        (
          await run(
            primary,
            `SELECT p.pid, a.query FROM pg_stat_progress_vacuum p JOIN pg_stat_activity a USING (pid) WHERE p.relid = 'w'::regclass`,
          )
        ).rows[0] as { pid: number; query: string } | undefined,
      "an anti-wraparound autovacuum of w",
    );
    expect(vacuuming.query).toContain("(to prevent wraparound)");
    const { sink, result } = await startApply(
      "CREATE INDEX CONCURRENTLY w_v ON w (v);\n",
      pacingFor(target({ pauseWhen: { wraparoundVacuum: true } })),
    );
    const paused = await until(() => sink.events.find((e) => e.kind === "paused"), "a pause");
    expect(paused.kind === "paused" && paused.data.reasons).toEqual([{ code: "wraparound_vacuum", table: "w", pid: vacuuming.pid }]);
    expect(await result).toEqual({ ok: true });
    expect(sink.kinds()).toContain("resumed");
    expect((await run(primary, "SELECT count(*)::int AS n FROM pg_stat_progress_vacuum WHERE relid = 'w'::regclass")).rows[0].n).toBe(0);
    expect(await indexExists(primary, "w_v")).toBe(true);
  });
});
