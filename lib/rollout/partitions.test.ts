import { spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parserReady } from "../changeset/parse";
import { runCli } from "../cli/testing";
import { buildRolloutReport, reportMarkdown } from "./report";
import { startRunner, type Runner } from "../jobs/runner";
import { freshDatabase, pgServers } from "../testing/db";
import { leafCoverage } from "../targets/partitions";
import { applyTasks } from "./apply";
import { eventsAfter, type RolloutEvent } from "./events";
import { runPhaseJob } from "./run-phase";
import { MemorySink } from "./memory-sink";
import { expandPartitioned, partitionIndexName, PARTITIONS_CHECK, recordedPlans } from "./partitions";
import { requestPhase } from "./machine";
import { planChangeSet } from "./plan";
import { createRollout, getRollout, rolloutTasks } from "./rollouts";
import { DBA, settledPrecheck, settledVerify, testTargets, uploadChangeSet, waitForState } from "./testing";
import { fixedTargets } from "../targets/source";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Leaves, in the order the plan builds them (level, schema, name). */
const LEAVES = ["public.events_2024", "public.events_2026", "public.events_2025_h0", "public.events_2025_h1"];

/**
 * A partitioned `events` table of four leaves on two levels: 2024 and 2026 directly, 2025 itself
 * partitioned by hash into two. `rows` per leaf, so each build shows progress for a moment.
 */
async function seedEvents(url: string, rows = 40_000): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`
      CREATE TABLE events (id bigint NOT NULL, org_id int, at date NOT NULL) PARTITION BY RANGE (at);
      CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
      CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01') PARTITION BY HASH (id);
      CREATE TABLE events_2025_h0 PARTITION OF events_2025 FOR VALUES WITH (MODULUS 2, REMAINDER 0);
      CREATE TABLE events_2025_h1 PARTITION OF events_2025 FOR VALUES WITH (MODULUS 2, REMAINDER 1);
      CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
      CREATE INDEX events_2024_keep ON events_2024 (id);`);
    for (const year of [2024, 2025, 2026])
      await c.query(
        `INSERT INTO events SELECT g, g % 500, make_date($2, 1, 1) + (g % 360) FROM generate_series(1, $1) g WHERE $2 <> 2025 OR g % 2 = 0`,
        [rows, year],
      );
    await c.query("INSERT INTO events SELECT g, g % 500, date '2025-06-01' FROM generate_series(1, $1) g WHERE g % 2 = 1", [rows]);
    await c.query("ANALYZE events");
  } finally {
    await c.end();
  }
}

/** Inserts into every partition, one row at a time, until stopped: how many went in, and every error. */
function startWriter(url: string): { stop(): Promise<{ inserted: number; errors: string[] }> } {
  let running = true;
  const stats = { inserted: 0, errors: [] as string[] };
  const done = (async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      for (let i = 0; running; i++) {
        try {
          await c.query("INSERT INTO events VALUES ($1, $2, date '2024-01-01' + ($3::int % 1090))", [1_000_000 + i, i % 500, i * 7]);
          stats.inserted++;
        } catch (err) {
          stats.errors.push((err as Error).message);
        }
        await sleep(2);
      }
    } finally {
      await c.end();
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return stats;
    },
  };
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

/** Every index on the events tree but the seed's own. */
const ourIndexes = (url: string) =>
  query<{ name: string }>(
    url,
    `SELECT relname AS name FROM pg_class WHERE relkind IN ('i', 'I') AND relname LIKE 'events%' AND relname <> 'events_2024_keep' ORDER BY 1`,
  );

/** A change set building `name` on the partitioned events table. */
const changeSet = (name: string) =>
  `SET lock_timeout = '5s';\nSET statement_timeout = 0;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS ${name} ON events (org_id, at) WHERE org_id > 0;\n`;

describe("the expansion of a partitioned build", () => {
  const task = {
    seq: 2,
    kind: "create_index" as const,
    line: 3,
    schemaName: null,
    tableName: "events",
    concurrent: true,
    ifNotExists: true,
  };
  const tree = [
    { schema: "public", name: "events", relkind: "p", parent: null, level: 0 },
    { schema: "public", name: "events_2025", relkind: "p", parent: { schema: "public", name: "events" }, level: 1 },
    { schema: "public", name: "events_2024", relkind: "r", parent: { schema: "public", name: "events" }, level: 1 },
    { schema: "arc", name: 'Old "one"', relkind: "r", parent: { schema: "public", name: "events_2025" }, level: 2 },
  ];

  it("writes ON ONLY on each partitioned level (attached at once), then a concurrent build and an attach per leaf, each keeping the approved definition", async () => {
    await parserReady();
    const plan = expandPartitioned(
      {
        ...task,
        indexName: "ev_k",
        statement: "CREATE INDEX CONCURRENTLY IF NOT EXISTS ev_k ON events USING btree (lower(x), y) INCLUDE (z) WHERE y > 0",
      },
      tree,
    );
    expect(plan.steps.map((s) => s.statement)).toEqual([
      `CREATE INDEX "ev_k" ON ONLY "public"."events" USING btree (lower(x), y) INCLUDE (z) WHERE y > 0`,
      `CREATE INDEX "ev_k_events_2025" ON ONLY "public"."events_2025" USING btree (lower(x), y) INCLUDE (z) WHERE y > 0`,
      `ALTER INDEX "public"."ev_k" ATTACH PARTITION "public"."ev_k_events_2025"`,
      `CREATE INDEX CONCURRENTLY "ev_k_events_2024" ON "public"."events_2024" USING btree (lower(x), y) INCLUDE (z) WHERE y > 0`,
      `ALTER INDEX "public"."ev_k" ATTACH PARTITION "public"."ev_k_events_2024"`,
      `CREATE INDEX CONCURRENTLY "ev_k_Old ""one""" ON "arc"."Old ""one""" USING btree (lower(x), y) INCLUDE (z) WHERE y > 0`,
      `ALTER INDEX "public"."ev_k_events_2025" ATTACH PARTITION "arc"."ev_k_Old ""one"""`,
    ]);
  });

  it("keeps partition index names within 63 bytes, distinct by a hash of both names", () => {
    const long = partitionIndexName("i".repeat(40), "p".repeat(40));
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(63);
    expect(long).not.toBe(partitionIndexName("i".repeat(40), `${"p".repeat(39)}q`));
    expect(Buffer.byteLength(partitionIndexName("é".repeat(30), "ü".repeat(30)))).toBeLessThanOrEqual(63);
  });

  it("refuses a foreign-table partition by name", async () => {
    await parserReady();
    const withForeign = [...tree.slice(0, 3), { ...tree[3], relkind: "f" }];
    expect(() =>
      expandPartitioned({ ...task, indexName: "ev_k", statement: "CREATE INDEX CONCURRENTLY ev_k ON events (y)" }, withForeign),
    ).toThrow(`partition arc.Old "one" of public.events is a foreign table: PostgreSQL can't build an index on it concurrently`);
  });
});

describe.each(pgServers())("CREATE INDEX CONCURRENTLY on a partitioned table, on $name PostgreSQL", (server) => {
  let pool: pg.Pool;
  let runner: Runner;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: await freshDatabase(server) });
  });
  afterAll(async () => {
    await runner?.stop();
    await pool.end();
  });

  /** A runner for this test's target only (a previous test's runner would run the job on its own target). */
  async function run(targets: ReturnType<typeof testTargets>) {
    await runner?.stop();
    runner = startRunner({
      pool,
      pollMs: 100,
      log: () => undefined,
      handle: (job) => runPhaseJob({ pool, targets: fixedTargets(targets), apply: { pollIntervalMs: 100 } }, job),
    });
  }

  it("is expanded at pre-check, built partition by partition under a concurrent writer, verified, and rolled back", async () => {
    const targetUrl = await freshDatabase(server, "empty");
    await seedEvents(targetUrl);
    const targets = testTargets(targetUrl);
    await run(targets);
    const rollout = await createRollout(
      pool,
      fixedTargets(targets),
      { changesetId: await uploadChangeSet(pool, "part.sql", changeSet("events_org")), targetId: "stage" },
      DBA,
    );
    await requestPhase(pool, rollout.id, "precheck", DBA, { backupId: "b-1" }, fixedTargets(targets));
    expect(await settledPrecheck(pool, rollout.id)).toEqual({ state: "prechecked", error: null, failed: [] });
    const precheck = (await getRollout(pool, rollout.id))!.precheck!;
    const [plan] = recordedPlans(precheck);
    expect(plan.steps.map((s) => `${s.kind} ${s.schema}.${s.table}`)).toEqual([
      "create_parent public.events",
      "create_parent public.events_2025",
      "attach public.events_2025",
      ...LEAVES.flatMap((l) => [`build ${l}`, `attach ${l}`]),
    ]);
    expect(precheck.checks.find((c) => c.id === PARTITIONS_CHECK)?.summary).toBe(
      "events_org on public.events: ON ONLY on 2 partitioned table(s), 4 concurrent partition build(s), 5 ATTACH PARTITION",
    );

    const writer = startWriter(targetUrl);
    await sleep(200);
    await requestPhase(pool, rollout.id, "apply", DBA, {}, fixedTargets(targets));
    const settled = await settledVerify(pool, rollout.id, 120_000);
    const writes = await writer.stop();
    expect(settled).toEqual({ state: "verified", error: null, failed: [] });
    expect(writes.errors).toEqual([]);
    expect(writes.inserted).toBeGreaterThan(50);

    const c = new pg.Client({ connectionString: targetUrl });
    await c.connect();
    const coverage = await leafCoverage(c, "public.events_org").finally(() => c.end());
    expect(coverage!.map((l) => [`${l.schema}.${l.table}`, l.index, l.valid])).toEqual(
      LEAVES.slice()
        .sort()
        .map((l) => [l, `events_org_${l.slice(7)}`, true]),
    );
    const [{ valid }] = await query<{ valid: boolean }>(
      targetUrl,
      "SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = 'events_org'::regclass",
    );
    expect(valid).toBe(true);

    const events = await eventsAfter(pool, rollout.id, 0);
    const built = events.filter((e): e is RolloutEvent<"partition_ready"> => e.kind === "partition_ready" && e.data.kind === "build");
    expect(built.map((e) => `${e.data.schema}.${e.data.table}`)).toEqual(LEAVES);
    // Progress names its partition and gives the whole build's percent beside the partition's own (a fast leaf may finish between polls).
    const progress = events.filter((e) => e.kind === "progress");
    expect(progress.length).toBeGreaterThan(0);
    for (const p of progress) {
      expect(LEAVES).toContain(p.data.partition);
      expect(Number(p.data.percent)).toBeLessThanOrEqual(100);
      expect(Number(p.data.partitionPercent)).toBeGreaterThanOrEqual(0);
    }
    expect(events.filter((e) => e.kind === "statement_start" && e.taskSeq === 2)).toHaveLength(1);
    expect((await rolloutTasks(pool, rollout.id))[2]).toMatchObject({ status: "done", createdByRollout: true });
    const verify = (await getRollout(pool, rollout.id))!.verify!;
    expect(verify.indexes[0].summary).toContain("all 4 partitions have a valid attached index");
    const report = reportMarkdown(await buildRolloutReport(pool, rollout.id, "dba"));
    expect(report).toContain("### Partitioned build: statement 3, events\\_org on public.events, as expanded at pre-check");
    expect(report).toContain(
      '4. CREATE INDEX CONCURRENTLY "events\\_org\\_events\\_2024" ON "public"."events\\_2024" (org\\_id, at) WHERE org\\_id &gt; 0',
    );

    await requestPhase(pool, rollout.id, "rollback", DBA, { reason: "test rollback" }, fixedTargets(targets));
    expect(await waitForState(pool, rollout.id, ["rolled_back", "verified"])).toBe("rolled_back");
    expect(await ourIndexes(targetUrl)).toEqual([]);
    expect(await query(targetUrl, "SELECT 1 FROM pg_class WHERE relname = 'events_2024_keep'")).toHaveLength(1);
  }, 180_000);

  it("fails apply before touching the target when a partition was added after pre-check", async () => {
    const targetUrl = await freshDatabase(server, "empty");
    await seedEvents(targetUrl, 1000);
    const targets = testTargets(targetUrl);
    await run(targets);
    const rollout = await createRollout(
      pool,
      fixedTargets(targets),
      { changesetId: await uploadChangeSet(pool, "added.sql", changeSet("events_new")), targetId: "stage" },
      DBA,
    );
    await requestPhase(pool, rollout.id, "precheck", DBA, { backupId: "b-1" }, fixedTargets(targets));
    expect((await settledPrecheck(pool, rollout.id)).state).toBe("prechecked");
    await query(targetUrl, "CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')");

    await requestPhase(pool, rollout.id, "apply", DBA, {}, fixedTargets(targets));
    expect(await waitForState(pool, rollout.id, ["failed", "verifying", "verified"])).toBe("failed");
    expect((await getRollout(pool, rollout.id))!.error).toBe(
      "the partitions of events_new on events differ from pre-check (added since pre-check: public.events_2027): nothing was run. Run pre-check again to expand the plan against the partitions as they are now — Run pre-check again, review the expanded plan, then apply.",
    );
    expect(await ourIndexes(targetUrl)).toEqual([]);
    expect((await eventsAfter(pool, rollout.id, 0)).filter((e) => e.kind === "partition_start")).toEqual([]);
  }, 60_000);

  it("rolls back exactly what a failed mid-way apply created: the parent index with what is attached, nothing else", async () => {
    const targetUrl = await freshDatabase(server, "empty");
    await seedEvents(targetUrl, 2000);
    // A duplicate only in 2026: the 2024 partition builds and attaches, 2026's build fails and leaves an INVALID index.
    await query(targetUrl, "INSERT INTO events VALUES (7, 1, date '2026-03-01'), (7, 2, date '2026-03-01')");
    const targets = testTargets(targetUrl);
    await run(targets);
    const sql = "SET lock_timeout = '5s';\nCREATE UNIQUE INDEX CONCURRENTLY events_uid ON events (id, at);\n";
    const rollout = await createRollout(
      pool,
      fixedTargets(targets),
      { changesetId: await uploadChangeSet(pool, "dup.sql", sql), targetId: "stage" },
      DBA,
    );
    await requestPhase(pool, rollout.id, "precheck", DBA, { backupId: "b-1" }, fixedTargets(targets));
    expect((await settledPrecheck(pool, rollout.id)).state).toBe("prechecked");
    await requestPhase(pool, rollout.id, "apply", DBA, {}, fixedTargets(targets));
    expect(await waitForState(pool, rollout.id, ["failed", "verifying", "verified"])).toBe("failed");
    expect((await getRollout(pool, rollout.id))!.error).toContain("unique index events_uid_events_2026 cannot be built");
    // Mid-way: the parent, 2025's ON ONLY and 2024's build are there; 2026's INVALID one was cleaned up.
    expect((await ourIndexes(targetUrl)).map((r) => r.name)).toEqual(["events_uid", "events_uid_events_2024", "events_uid_events_2025"]);

    await requestPhase(pool, rollout.id, "rollback", DBA, { reason: "duplicates in 2026" }, fixedTargets(targets));
    expect(await waitForState(pool, rollout.id, ["rolled_back", "failed"])).toBe("rolled_back");
    expect(await ourIndexes(targetUrl)).toEqual([]);
    expect(await query(targetUrl, "SELECT 1 FROM pg_class WHERE relname = 'events_2024_keep'")).toHaveLength(1);
  }, 60_000);

  it("is applied, verified and rolled back by the CLI on a --database-url as well", async () => {
    const targetUrl = await freshDatabase(server, "empty");
    await seedEvents(targetUrl, 1000);
    const file = path.join(await mkdtemp(path.join(tmpdir(), "partition-cli-")), "cli.sql");
    await writeFile(file, changeSet("events_cli"));
    const apply = await runCli(["apply", "--changeset", file, "--database-url", targetUrl, "--json"]);
    expect(JSON.parse(apply.out)).toMatchObject({ ok: true });
    const verify = await runCli(["verify", "--changeset", file, "--database-url", targetUrl, "--json"]);
    expect(JSON.parse(verify.out).indexes).toMatchObject([{ status: "pass", title: "events_cli" }]);
    expect((await ourIndexes(targetUrl)).length).toBe(6);
    const rollback = await runCli(["rollback", "--changeset", file, "--database-url", targetUrl, "--reason", "cli test", "--json"]);
    expect(JSON.parse(rollback.out)).toMatchObject({ ok: true });
    expect(await ourIndexes(targetUrl)).toEqual([]);
  }, 60_000);

  it("rolls back a recipe written by hand through a rollout: the ON ONLY parent first, whatever the file's order", async () => {
    const targetUrl = await freshDatabase(server, "empty");
    await seedEvents(targetUrl, 1000);
    const targets = testTargets(targetUrl);
    await run(targets);
    const sql =
      "SET lock_timeout = '5s';\nCREATE INDEX CONCURRENTLY hand_h0 ON events_2025_h0 (org_id);\nCREATE INDEX CONCURRENTLY hand_h1 ON events_2025_h1 (org_id);\nCREATE INDEX hand ON ONLY events_2025 (org_id);\nALTER INDEX hand ATTACH PARTITION hand_h0;\nALTER INDEX hand ATTACH PARTITION hand_h1;\n";
    const rollout = await createRollout(
      pool,
      fixedTargets(targets),
      { changesetId: await uploadChangeSet(pool, "hand.sql", sql), targetId: "stage" },
      DBA,
    );
    await requestPhase(pool, rollout.id, "precheck", DBA, { backupId: "b-1" }, fixedTargets(targets));
    expect(await settledPrecheck(pool, rollout.id)).toEqual({ state: "prechecked", error: null, failed: [] });
    await requestPhase(pool, rollout.id, "apply", DBA, {}, fixedTargets(targets));
    expect(await settledVerify(pool, rollout.id)).toEqual({ state: "verified", error: null, failed: [] });
    const hand = (await getRollout(pool, rollout.id))!.verify!.indexes.find((c) => c.title === "hand");
    expect(hand?.summary).toContain("all 2 partitions have a valid attached index");

    await requestPhase(pool, rollout.id, "rollback", DBA, { reason: "hand-written rollback" }, fixedTargets(targets));
    expect(await waitForState(pool, rollout.id, ["rolled_back", "verified"])).toBe("rolled_back");
    expect(await query(targetUrl, "SELECT relname FROM pg_class WHERE relname LIKE 'hand%'")).toEqual([]);
  }, 60_000);

  it("runs the recipe written by hand, and refuses ON ONLY on a table that is not partitioned before it runs", async () => {
    const targetUrl = await freshDatabase(server, "empty");
    await seedEvents(targetUrl, 1000);
    await query(targetUrl, "CREATE TABLE plain (id int); INSERT INTO plain SELECT generate_series(1, 1000)");
    const recipe =
      "SET lock_timeout = '5s';\nCREATE INDEX hand ON ONLY events_2025 (org_id);\nCREATE INDEX CONCURRENTLY hand_h0 ON events_2025_h0 (org_id);\nALTER INDEX hand ATTACH PARTITION hand_h0;\nCREATE INDEX CONCURRENTLY hand_h1 ON events_2025_h1 (org_id);\nALTER INDEX hand ATTACH PARTITION hand_h1;\n";
    const tasks = await planChangeSet("hand.sql", recipe, "production");
    const sink = new MemorySink();
    expect(await applyTasks(tasks, sink, { url: targetUrl, applicationName: "indexdeck:test", targetKey: "t" })).toEqual({ ok: true });
    const [{ valid }] = await query<{ valid: boolean }>(
      targetUrl,
      "SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = 'hand'::regclass",
    );
    expect(valid).toBe(true);

    const blocking = await planChangeSet("only.sql", "CREATE INDEX plain_id ON ONLY plain (id);\n", "production");
    const refused = await applyTasks(blocking, new MemorySink(), { url: targetUrl, applicationName: "indexdeck:test", targetKey: "t" });
    expect(refused.error).toBe(
      "CREATE INDEX plain_id ON ONLY plain: public.plain is not partitioned, so the whole index would be built under a lock that blocks writes; nothing was run",
    );
    expect(await query(targetUrl, "SELECT 1 FROM pg_class WHERE relname = 'plain_id'")).toEqual([]);
  }, 60_000);
});

describe.each(pgServers())("a server killed mid-way through a partitioned build, on $name PostgreSQL", (server) => {
  it("is resumed on restart without rebuilding a finished partition: the one running is followed to its end, the rest built", async () => {
    const storeUrl = await freshDatabase(server);
    const targetUrl = await freshDatabase(server, "empty");
    await seedEvents(targetUrl, 20_000);
    const targets = testTargets(targetUrl);
    const dir = await mkdtemp(path.join(tmpdir(), "partition-kill-"));
    const targetsFile = path.join(dir, "targets.json");
    await writeFile(targetsFile, JSON.stringify({ targets }));
    const pool = new pg.Pool({ connectionString: storeUrl });
    const rollout = await createRollout(
      pool,
      fixedTargets(targets),
      { changesetId: await uploadChangeSet(pool, "kill.sql", changeSet("events_org")), targetId: "stage" },
      DBA,
    );

    // A writer's open transaction on 2026 holds that partition's build in "waiting for writers" while the worker is killed.
    const holder = new pg.Client({ connectionString: targetUrl });
    holder.on("error", () => undefined);
    await holder.connect();
    await holder.query("BEGIN");
    await holder.query("LOCK TABLE events_2026 IN ROW EXCLUSIVE MODE");

    const worker = spawn(process.execPath, ["bin/indexdeck.cjs", "worker"], {
      env: { ...process.env, DATABASE_URL: storeUrl, INDEXDECK_TARGETS: targetsFile },
      stdio: "ignore",
    });
    let runner: Runner | undefined;
    try {
      await requestPhase(pool, rollout.id, "precheck", DBA, { backupId: "b" }, fixedTargets(targets));
      await waitForState(pool, rollout.id, ["prechecked"], 60_000);
      await requestPhase(pool, rollout.id, "apply", DBA, {}, fixedTargets(targets));
      for (let i = 0; ; i++) {
        const waiting = (await eventsAfter(pool, rollout.id, 0)).some(
          (e) => e.kind === "progress" && e.data.partition === "public.events_2026" && String(e.data.phase).startsWith("waiting"),
        );
        if (waiting) break;
        if (i > 600) throw new Error("the 2026 build never started waiting");
        await sleep(100);
      }
      worker.kill("SIGKILL");

      runner = startRunner({
        pool,
        pollMs: 100,
        staleAfterMs: 1500,
        log: () => undefined,
        handle: (job) => runPhaseJob({ pool, targets: fixedTargets(targets), apply: { pollIntervalMs: 100 } }, job),
      });
      for (let i = 0; ; i++) {
        if ((await eventsAfter(pool, rollout.id, 0)).some((e) => e.kind === "reconcile_follow")) break;
        if (i > 300) throw new Error("reconcile never followed the orphaned build");
        await sleep(100);
      }
      await holder.query("COMMIT");
      expect(await settledVerify(pool, rollout.id, 120_000)).toEqual({ state: "verified", error: null, failed: [] });
      const events = await eventsAfter(pool, rollout.id, 0);
      const builds = (table: string) =>
        events.filter((e) => e.kind === "partition_start" && e.data.kind === "build" && e.data.table === table);
      // 2024 finished before the kill and 2026 was finished by its orphaned session: neither is built again.
      expect([builds("events_2024").length, builds("events_2026").length, builds("events_2025_h0").length]).toEqual([1, 1, 1]);
      expect(
        events.some(
          (e) => e.kind === "reconcile_task" && e.data.outcome === "the partition's build outlived the server and finished valid",
        ),
      ).toBe(true);
      expect(
        events
          .filter((e): e is RolloutEvent<"partition_kept"> => e.kind === "partition_kept" && e.data.kind === "build")
          .map((e) => e.data.table),
      ).toEqual(["events_2024", "events_2026"]);
    } finally {
      worker.kill("SIGKILL");
      await runner?.stop();
      await holder.end().catch(() => undefined);
      await pool.end();
    }
  }, 180_000);
});
