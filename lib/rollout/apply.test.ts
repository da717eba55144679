import pg from "pg";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { freshDatabase, pgServers } from "../testing/db";
import { applyTasks, LOCK_CLASS, TargetBusyError, type ApplyOptions } from "./apply";
import type { EventData, EventKind } from "./events";
import { MemorySink, type MemoryEvent } from "./memory-sink";
import { planChangeSet, PlanError } from "./plan";
import { until } from "../testing/until";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(pgServers())("apply on $name PostgreSQL", (server) => {
  let url: string;
  const opts = (extra: Partial<ApplyOptions> = {}): ApplyOptions => ({
    url,
    applicationName: `indexdeck:test-${Math.random().toString(36).slice(2, 8)}`,
    targetKey: url,
    pollIntervalMs: 100,
    backoffMs: 50,
    lockRetries: 3,
    ...extra,
  });

  async function admin(): Promise<pg.Client> {
    const c = new pg.Client({ connectionString: url, application_name: "test-other-session" });
    await c.connect();
    return c;
  }

  async function indexValidity(name: string): Promise<boolean | null> {
    const c = await admin();
    try {
      const { rows } = await c.query("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass($1)", [name]);
      return rows[0]?.indisvalid ?? null;
    } finally {
      await c.end();
    }
  }

  /**
   * A session that holds a snapshot open, which stalls any concurrent build until it ends. It
   * touches no table, so it holds no lock that would also stall the cleanup's DROP INDEX CONCURRENTLY.
   */
  async function snapshotHolder(): Promise<{ client: pg.Client; pid: number }> {
    const client = await admin();
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
    await client.query("SELECT 1");
    const {
      rows: [{ pid }],
    } = await client.query("SELECT pg_backend_pid() AS pid");
    return { client, pid };
  }

  beforeAll(async () => {
    url = await freshDatabase(server, "empty");
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query("CREATE TABLE t (id int, k int, v text)");
    await c.query("INSERT INTO t SELECT g, g % 1000, md5(g::text) FROM generate_series(1, 300000) g");
    await c.query("CREATE TABLE dup (x int); INSERT INTO dup VALUES (1), (1), (2)");
    await c.end();
  });

  it("builds each index concurrently with live progress, then skips them on a re-run", async () => {
    const tasks = await planChangeSet(
      "ok.sql",
      "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_k ON t (k);\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_v ON t (v);\n",
      "production",
    );
    const sink = new MemorySink();
    expect(await applyTasks(tasks, sink, opts())).toEqual({ ok: true });
    expect(sink.tasks.get(1)).toMatchObject({ status: "done", createdByRollout: true });
    expect(sink.tasks.get(2)).toMatchObject({ status: "done", createdByRollout: true });
    expect(sink.kinds().filter((k) => k === "progress").length).toBeGreaterThan(0);
    expect(await indexValidity("t_k")).toBe(true);

    const again = new MemorySink();
    expect(await applyTasks(tasks, again, opts())).toEqual({ ok: true });
    expect(again.tasks.get(1)).toMatchObject({ status: "skipped_exists" });
    expect(again.tasks.get(1)?.createdByRollout).toBeUndefined();
  });

  it("leaves no poll timer behind once it returns, so a CLI process exits as soon as its apply does", async () => {
    const tasks = await planChangeSet("timer.sql", "CREATE INDEX CONCURRENTLY IF NOT EXISTS t_timer ON t (k, id);\n", "production");
    const interval = 60_000; // far longer than the build: only a timer left behind could see it out
    const pollTimers: unknown[] = [];
    const realSetTimeout = globalThis.setTimeout;
    const set = vi.spyOn(globalThis, "setTimeout").mockImplementation(((fn: () => void, ms?: number) => {
      const timer = realSetTimeout(fn, ms);
      if (ms === interval) pollTimers.push(timer);
      return timer;
    }) as typeof setTimeout);
    const clear = vi.spyOn(globalThis, "clearTimeout");
    try {
      expect(await applyTasks(tasks, new MemorySink(), opts({ pollIntervalMs: interval }))).toEqual({ ok: true });
      expect(pollTimers.length).toBeGreaterThan(0);
      for (const timer of pollTimers) expect(clear).toHaveBeenCalledWith(timer);
    } finally {
      set.mockRestore();
      clear.mockRestore();
    }
  });

  it("watches every build of an apply from one session, opens another when that one dies, and ends it with the apply", async () => {
    const o = opts();
    const watchers = async () => {
      const c = await admin();
      try {
        const { rows } = await c.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = $1", [
          `${o.applicationName}:poll`,
        ]);
        return rows.map((r) => r.pid);
      } finally {
        await c.end();
      }
    };
    const seen: number[][] = [];
    // Each build's first progress event comes from its poller's first round: the watch session is open then.
    class Watching extends MemorySink {
      override async event<K extends EventKind>(kind: K, data: EventData[K], taskSeq?: number) {
        await super.event(kind, data, taskSeq);
        if (kind !== "progress" || this.events.filter((e) => e.kind === "progress" && e.taskSeq === taskSeq).length > 1) return;
        const pids = await watchers();
        seen.push(pids);
        if (seen.length === 1) {
          const c = await admin();
          await c.query("SELECT pg_terminate_backend($1)", [pids[0]]);
          await c.end();
        }
      }
    }
    const sink = new Watching();
    const tasks = await planChangeSet(
      "watch.sql",
      ["w1 ON t (k, v)", "w2 ON t (v, k)", "w3 ON t (id, k)"].map((i) => `CREATE INDEX CONCURRENTLY IF NOT EXISTS t_${i};\n`).join(""),
      "production",
    );
    expect(await applyTasks(tasks, sink, o)).toEqual({ ok: true });
    const perBuild = seen.map((pids) => pids.length);
    expect(perBuild.length).toBeGreaterThanOrEqual(3);
    expect(perBuild.every((n) => n === 1)).toBe(true);
    // The first build's session was ended from outside: the next build watched from a new one, kept to the end.
    const [first, ...rest] = seen.map((pids) => pids[0]);
    expect(rest.every((pid) => pid !== first)).toBe(true);
    expect(new Set(rest).size).toBe(1);
    await until(async () => (await watchers()).length === 0, "the watch session to end with the apply", 5000);
  });

  it("returns as soon as a quick build ends, even when it ends while the poller is between its queries", async () => {
    const c = await admin();
    await c.query("CREATE TABLE IF NOT EXISTS quick (x int)");
    await c.end();
    // The build of an empty table ends before the poller's first round does: the stop lands mid-round.
    const tasks = await planChangeSet("quick.sql", "CREATE INDEX CONCURRENTLY IF NOT EXISTS quick_x ON quick (x);\n", "production");
    const started = Date.now();
    expect(await applyTasks(tasks, new MemorySink(), opts({ pollIntervalMs: 60_000 }))).toEqual({ ok: true });
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it("retries a lock timeout with backoff, names the holder, then fails clearly without touching it", async () => {
    const holder = await admin();
    await holder.query("BEGIN");
    await holder.query("LOCK TABLE t IN ACCESS EXCLUSIVE MODE");
    const {
      rows: [{ pid: holderPid }],
    } = await holder.query("SELECT pg_backend_pid() AS pid");
    try {
      const tasks = await planChangeSet(
        "lock.sql",
        "SET lock_timeout = '300ms';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_lock ON t (id);\n",
        "production",
      );
      const sink = new MemorySink();
      const r = await applyTasks(tasks, sink, opts({ pollIntervalMs: 50 }));
      expect(r).toMatchObject({ ok: false, code: "lock_timeout" });
      expect(r.error).toMatch(
        new RegExp(`could not get the lock after 3 attempts \\(lock_timeout\\); held by pid ${holderPid} \\(test-other-session`),
      );
      expect(sink.tasks.get(1)?.statuses).toContain("waiting_for_lock");
      expect(sink.tasks.get(1)).toMatchObject({ status: "failed", attempts: 3 });
      expect(sink.kinds().filter((k) => k === "lock_timeout")).toHaveLength(3);
      expect(await indexValidity("t_lock")).toBeNull();
      expect((await holder.query("SELECT 1 AS alive")).rows[0].alive).toBe(1);
    } finally {
      await holder.query("ROLLBACK");
      await holder.end();
    }
  });

  it("names the session whose old snapshot stalls the build within seconds, never kills it, and finishes when it ends", async () => {
    const blocker = await snapshotHolder();
    const tasks = await planChangeSet(
      "snap.sql",
      "SET lock_timeout = '60s';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_snap ON t (k, id);\n",
      "production",
    );
    const sink = new MemorySink();
    const started = Date.now();
    const run = applyTasks(tasks, sink, opts());
    const named = await until(
      () =>
        sink.events.find(
          (e): e is Extract<MemoryEvent, { kind: "progress" }> =>
            e.kind === "progress" && e.data.blockers.some((b) => b.pid === blocker.pid),
        ),
      "the blocker to be named",
    );
    expect(named.at - started).toBeLessThan(5000);
    expect(String(named.data.phase)).toMatch(/^waiting for/);
    await sleep(300);
    expect((await blocker.client.query("SELECT 1 AS alive")).rows[0].alive).toBe(1);
    await blocker.client.query("COMMIT");
    await blocker.client.end();
    expect(await run).toEqual({ ok: true });
    expect(await indexValidity("t_snap")).toBe(true);
  });

  it("drops the INVALID index a statement_timeout leaves and fails with the reason and advice", async () => {
    const blocker = await snapshotHolder();
    try {
      const tasks = await planChangeSet(
        "st.sql",
        "SET lock_timeout = '60s';\nSET statement_timeout = '1s';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_st ON t (v, k);\n",
        "production",
      );
      const sink = new MemorySink();
      const r = await applyTasks(tasks, sink, opts());
      expect(r.ok).toBe(false);
      expect(r.error).toMatch(/statement_timeout cancelled the build of t_st/);
      expect(r.code).toBe("statement_timeout");
      expect(r.advice).toMatch(/Raise it/);
      expect(sink.kinds()).toEqual(expect.arrayContaining(["invalid_found", "invalid_dropped", "task_failed"]));
      expect(await indexValidity("t_st")).toBeNull();
    } finally {
      await blocker.client.query("ROLLBACK");
      await blocker.client.end();
    }
  });

  it("drops the INVALID index a unique violation leaves", async () => {
    const tasks = await planChangeSet("u.sql", "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS dup_x ON dup (x);\n", "production");
    const sink = new MemorySink();
    const r = await applyTasks(tasks, sink, opts());
    expect(r.error).toMatch(/unique index dup_x cannot be built/);
    expect(r.code).toBe("unique_violation");
    expect(r.advice).toMatch(/duplicate keys/);
    expect(sink.kinds()).toContain("invalid_dropped");
    expect(await indexValidity("dup_x")).toBeNull();
  });

  it("cancels only its own backend on request, then cleans up", async () => {
    const blocker = await snapshotHolder();
    try {
      const tasks = await planChangeSet(
        "c.sql",
        "SET lock_timeout = '60s';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_cancel ON t (id, k);\n",
        "production",
      );
      const sink = new MemorySink();
      const run = applyTasks(tasks, sink, opts());
      await until(
        () => sink.events.some((e) => e.kind === "progress" && String(e.data.phase).startsWith("waiting for")),
        "the build to wait",
      );
      sink.cancel = true;
      const r = await run;
      expect(r).toMatchObject({ ok: false, cancelled: true, code: "cancelled" });
      expect(sink.events.find((e) => e.kind === "cancel_sent")?.data.delivered).toBe(true);
      expect(await indexValidity("t_cancel")).toBeNull();
      expect((await blocker.client.query("SELECT 1 AS alive")).rows[0].alive).toBe(1);
    } finally {
      await blocker.client.query("ROLLBACK");
      await blocker.client.end();
    }
  });

  it("lets exactly one apply run per target; the second is refused naming the first", async () => {
    const blocker = await snapshotHolder();
    const first = new MemorySink();
    const tasks = await planChangeSet(
      "one.sql",
      "SET lock_timeout = '60s';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_one ON t (v);\n",
      "production",
    );
    const run = applyTasks(tasks, first, opts({ applicationName: "indexdeck:first" }));
    await until(() => first.kinds().includes("session"), "the first apply to start");
    await expect(applyTasks(tasks, new MemorySink(), opts())).rejects.toThrow(TargetBusyError);
    await expect(applyTasks(tasks, new MemorySink(), opts())).rejects.toThrow(
      /another apply is running on target .* \(pid \d+, indexdeck:first\)/,
    );
    await blocker.client.query("COMMIT");
    await blocker.client.end();
    // Free the moment the apply returns, though its session is hung up, not waited out.
    const next = await admin();
    try {
      expect(await run).toEqual({ ok: true });
      const {
        rows: [lock],
      } = await next.query("SELECT pg_try_advisory_lock($1, 0) AS ok", [LOCK_CLASS]);
      expect(lock.ok).toBe(true);
    } finally {
      await next.end();
    }
  });

  it("reports an unreachable target at start, and a connection lost mid-build with cleanup", async () => {
    const tasks = await planChangeSet("x.sql", "CREATE INDEX CONCURRENTLY IF NOT EXISTS t_x ON t (k, v);\n", "production");
    const down = await applyTasks(tasks, new MemorySink(), opts({ url: "postgres://u:pw@127.0.0.1:1/db" }));
    expect(down).toMatchObject({ ok: false, code: "target_unreachable", error: expect.stringMatching(/^cannot connect to the target/) });

    const blocker = await snapshotHolder();
    try {
      const sink = new MemorySink();
      const run = applyTasks(tasks, sink, opts());
      const session = await until(() => sink.events.find((e) => e.kind === "session"), "the session");
      await until(
        () => sink.events.some((e) => e.kind === "progress" && String(e.data.phase).startsWith("waiting for")),
        "the build to wait",
      );
      await blocker.client.query("SELECT pg_terminate_backend($1)", [session.data.pid]);
      const r = await run;
      expect(r.ok).toBe(false);
      expect(r.error).toMatch(/connection to the target was lost/);
      expect(r.code).toBe("connection_lost");
      expect(await indexValidity("t_x")).toBeNull();
    } finally {
      await blocker.client.query("ROLLBACK");
      await blocker.client.end();
    }
  });
});

describe("plan", () => {
  it("refuses a blocking index statement on production even when lint was ignored", async () => {
    await expect(
      planChangeSet("p.sql", "-- indexdeck-ignore require-concurrent-index-creation\nCREATE INDEX i ON t (x);\n", "production"),
    ).rejects.toThrow(PlanError);
    await expect(planChangeSet("p.sql", "DROP INDEX i;\n", "production")).rejects.toThrow(
      /drop index without CONCURRENTLY is refused on a production target/,
    );
    expect(await planChangeSet("p.sql", "CREATE INDEX i ON t (x);\n", "staging")).toHaveLength(1);
  });
  it("refuses anything that is not an index statement", async () => {
    await expect(planChangeSet("p.sql", "ALTER TABLE t ADD c int;\n", "staging")).rejects.toThrow(
      "p.sql:1:1: non-index-statement: ALTER TABLE statement does not belong in an index change set",
    );
  });
});
