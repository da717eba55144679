import pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, pgServers } from "../testing/db";
import { applyTasks } from "./apply";
import { MemorySink } from "./memory-sink";
import { planChangeSet } from "./plan";
import { buildTimeline, OWN_STEPS, type TimelineEvent } from "./timeline";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("buildTimeline", () => {
  const progress = (at: number, phase: string, waitEventType: string | null = null): TimelineEvent => ({
    kind: "progress",
    at,
    taskSeq: 1,
    data: {
      index: "ix",
      phase,
      percent: 0,
      blocksDone: 0,
      blocksTotal: 0,
      tuplesDone: 0,
      tuplesTotal: 0,
      lockersDone: 0,
      lockersTotal: 0,
      currentLockerPid: null,
      waitEventType,
      waitEvent: null,
      blockers: [],
    },
  });

  it("shows a lock wait, the back-off after lock_timeout and each attempt's phases, each closed by the next", () => {
    const events: TimelineEvent[] = [
      { kind: "statement_start", at: 1000, taskSeq: 1, data: { line: 2, statement: "CREATE …", attempt: 1 } },
      progress(1100, "waiting for lock", "Lock"),
      {
        kind: "lock_timeout",
        at: 1400,
        taskSeq: 1,
        data: { attempt: 1, message: "canceling statement due to lock timeout", blockers: [] },
      },
      { kind: "statement_start", at: 2400, taskSeq: 1, data: { line: 2, statement: "CREATE …", attempt: 2 } },
      progress(2500, "building index: scanning table"),
      progress(2600, "building index: scanning table"),
      progress(2900, "waiting for old snapshots", "Lock"),
      { kind: "index_ready", at: 3000, taskSeq: 1, data: { index: "ix", bytes: 8192, definition: null } },
    ];
    const [other, task] = buildTimeline([{ seq: 0 }, { seq: 1 }], events);
    expect(other).toEqual({ seq: 0, segments: [] });
    expect(task.segments).toEqual([
      { phase: "starting", wait: null, attempt: 1, from: 1000, to: 1100 },
      { phase: "waiting for lock", wait: "lock", attempt: 1, from: 1100, to: 1400 },
      { phase: OWN_STEPS.backoff, wait: "lock", attempt: 1, from: 1400, to: 2400 },
      { phase: "starting", wait: null, attempt: 2, from: 2400, to: 2500 },
      { phase: "building index: scanning table", wait: null, attempt: 2, from: 2500, to: 2900 },
      { phase: "waiting for old snapshots", wait: "transactions", attempt: 2, from: 2900, to: 3000 },
    ]);
  });

  it("leaves the running phase open while the statement has not ended", () => {
    const [task] = buildTimeline([{ seq: 1 }], [progress(5000, "building index: sorting live tuples")]);
    expect(task.segments).toEqual([{ phase: "building index: sorting live tuples", wait: null, attempt: 1, from: 5000, to: null }]);
  });
});

describe.each(pgServers())("the build timeline of a real apply on $name PostgreSQL", (server) => {
  let url: string;
  beforeAll(async () => {
    url = await freshDatabase(server, "empty");
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query("CREATE TABLE t (id int, k int)");
    await c.query("INSERT INTO t SELECT g, g % 1000 FROM generate_series(1, 200000) g");
    await c.end();
  });

  it("names PostgreSQL's phases in order and shows the wait for an old snapshot as a wait", async () => {
    const holder = new pg.Client({ connectionString: url, application_name: "test-snapshot" });
    await holder.connect();
    await holder.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
    await holder.query("SELECT 1");
    const tasks = await planChangeSet(
      "t.sql",
      "SET lock_timeout = '60s';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_k ON t (k);\n",
      "production",
    );
    const sink = new MemorySink();
    const run = applyTasks(tasks, sink, { url, applicationName: "indexdeck:timeline-test", targetKey: url, pollIntervalMs: 50 });
    try {
      for (let i = 0; i < 200 && !sink.events.some((e) => e.kind === "progress" && e.data.lockersTotal > 0); i++) await sleep(50);
      await sleep(300);
    } finally {
      await holder.query("ROLLBACK");
      await holder.end();
    }
    expect(await run).toEqual({ ok: true });

    const [set, build] = buildTimeline(tasks, sink.events);
    expect(set.segments).toEqual([]);
    const phases = build.segments.map((s) => s.phase);
    const waits = build.segments.filter((s) => s.wait === "transactions");
    expect(waits.length).toBeGreaterThan(0);
    const snapshotWait = waits.find((s) => s.phase === "waiting for old snapshots");
    expect(snapshotWait!.to! - snapshotWait!.from).toBeGreaterThanOrEqual(250);
    expect(phases[0]).toBe("starting");
    expect(build.segments.every((s, i) => s.to !== null && s.to >= s.from && (i === 0 || s.from === build.segments[i - 1].to))).toBe(true);
  });
});
