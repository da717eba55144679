import { describe, expect, it } from "vitest";
import { describeEvent, EVENT_SENTENCES } from "./event-text";
import type { EventData, EventKind } from "./events";

const blocker = { pid: 4242, user: "app", application: "billing", state: "idle in transaction", xactAgeSeconds: 93.5 };
const progress: EventData["progress"] = {
  index: "orders_created_idx",
  phase: "waiting for old snapshots",
  percent: 95.5,
  blocksDone: 0,
  blocksTotal: 0,
  tuplesDone: 0,
  tuplesTotal: 0,
  lockersDone: 0,
  lockersTotal: 1,
  currentLockerPid: 4242,
  waitEventType: "Lock",
  waitEvent: "virtualxid",
  blockers: [blocker],
};

// One example of every kind: the mapped type makes this list fail to compile when a kind is missing.
const EXAMPLES: { [K in EventKind]: EventData[K] } = {
  created: { by: "dba@x", state: "awaiting_approval" },
  partitions_differ: { error: "added since pre-check: public.events_2027" },
  partition_start: {
    step: 0,
    steps: 4,
    kind: "build",
    schema: "public",
    index: "e_idx_2024",
    table: "events_2024",
    line: 3,
    statement: "CREATE INDEX …",
    attempt: 1,
  },
  partition_ready: { step: 0, steps: 4, kind: "build", schema: "public", index: "e_idx_2024", table: "events_2024", bytes: 5734400 },
  partition_kept: { step: 1, kind: "build", schema: "public", index: "e_idx_2025", table: "events_2025" },
  approved_by: { by: "sre@x", approvals: 1, required: 2 },
  rejected: { by: "sre@x" },
  phase_requested: { phase: "apply", by: "dba@x" },
  cancel_requested: { by: "dba@x" },
  phase_start: { phase: "apply", attempt: 1, reclaimed: false, lostWorker: null, lastHeartbeatAt: null },
  phase_error: { phase: "apply", error: "the target is unreachable", code: null },
  precheck_done: { ok: true },
  target_busy: { error: "another apply is running on target staging" },
  session: {
    pid: 77,
    applicationName: "indexdeck:4",
    searchPath: "pg_catalog, public",
    schemas: ["pg_catalog", "public"],
    user: "app",
    superuser: false,
    settings: {},
  },
  statement_start: { line: 3, statement: "CREATE INDEX CONCURRENTLY …", attempt: 2 },
  statement_done: { line: 1, statement: "SET lock_timeout = '2s'" },
  skipped_exists: { index: "orders_created_idx", definition: "CREATE INDEX …" },
  invalid_found: { index: "orders_created_idx", reason: "the failed build left an INVALID index" },
  invalid_dropped: { index: "orders_created_idx" },
  invalid_left: { index: "orders_created_idx", error: "dropping it failed" },
  invalid_check_failed: { index: "orders_created_idx", message: "connection refused" },
  index_ready: { index: "orders_created_idx", bytes: 5_734_400, definition: "CREATE INDEX …" },
  lock_timeout: { attempt: 1, message: "canceling statement due to lock timeout", blockers: [blocker] },
  connection_lost: { message: "Connection terminated unexpectedly" },
  task_failed: { error: "could not get the lock after 5 attempts", advice: "Find it in the blockers panel.", code: "lock_timeout" },
  cancelled: {},
  progress,
  cancel_sent: { pid: 77, delivered: true },
  task_status: { status: "failed", error: "cancelled by request" },
  apply_done: { ok: false, state: "failed", error: "statement_timeout cancelled the build", advice: "Raise it." },
  reconcile_start: { applicationName: "indexdeck:4" },
  reconcile_follow: {
    pid: 77,
    state: "active",
    phase: "building index: scanning table",
    percent: 12,
    queryStart: null,
    observedAt: "2026-11-30T12:00:00Z",
  },
  reconcile_task: { index: "orders_created_idx", outcome: "never created; will be built" },
  verify_done: { ok: true },
  probe_start: { phase: "before", workloads: 2 },
  probe_done: {
    phase: "after",
    results: [
      { workload: "orders by day", p95Ms: 1.234, samples: 200, samplesWanted: 200, budgetCut: false, errors: 0 },
      { workload: "menu search", p95Ms: null, samples: 0, samplesWanted: 200, budgetCut: false, errors: 3 },
    ],
  },
  rollback_task: { status: "done", step: 1 },
  rollback_done: { ok: true, dropped: ["orders_created_idx"] },
  paused: {
    line: 4,
    reasons: [
      { code: "replica_lag", node: "orders_prod_r1", lagSeconds: 14.2, limitSeconds: 10 },
      { code: "active_connections", active: 250, limit: 200 },
    ],
  },
  resumed: { line: 4, pausedSeconds: 75 },
};

const say = (kind: EventKind) => describeEvent({ kind, data: EXAMPLES[kind] });

describe("event sentences", () => {
  it("give every kind a sentence of words, never its raw JSON", () => {
    for (const kind of Object.keys(EVENT_SENTENCES) as EventKind[]) {
      const { text } = say(kind);
      expect(text.length, kind).toBeGreaterThan(10);
      expect(text, kind).not.toMatch(/[{}"]|\[object/);
      expect(text, kind).not.toContain("undefined");
    }
  });

  it("put the key figures in human units: size, blocker pid, application and transaction age, percent", () => {
    expect(say("index_ready").text).toBe("orders_created_idx is ready and valid, 5.5 MB.");
    expect(say("lock_timeout").text).toBe(
      "Attempt 1 hit lock_timeout; blocked by pid 4242 (billing, idle in transaction, in a transaction for 1 min 34 s).",
    );
    expect(say("progress").text).toBe(
      "orders_created_idx: waiting for old snapshots, 95.5%, 0 of 1 transactions waited for; waiting on Lock/virtualxid; blocked by pid 4242 (billing, idle in transaction, in a transaction for 1 min 34 s).",
    );
    expect(say("paused").text).toBe(
      "Line 4 waits, paused: orders_prod_r1 lag 14 s > 10 s; 250 active connections > 200; it resumes by itself when that clears.",
    );
    expect(say("resumed").text).toBe("Line 4 resumed after 1 min 15 s paused.");
    expect(say("probe_done").text).toBe(
      "Measured p95 after the build: orders by day 1.23 ms (200 samples); menu search not measured (0 samples).",
    );
  });

  it("mark failures as errors, by kind and by outcome, and only those", () => {
    const errors = (Object.keys(EXAMPLES) as EventKind[]).filter((k) => say(k).tone === "error").sort();
    expect(errors).toEqual([
      "apply_done",
      "connection_lost",
      "invalid_check_failed",
      "invalid_left",
      "partitions_differ",
      "phase_error",
      "task_failed",
      "task_status",
    ]);
    expect(describeEvent({ kind: "apply_done", data: { ok: true, state: "verifying", error: null, advice: null } }).tone).toBe("ok");
    expect(describeEvent({ kind: "verify_done", data: { ok: false } }).tone).toBe("error");
  });

  it("still give a line for a stored row that lacks a field its kind now has", () => {
    expect(describeEvent({ kind: "progress", data: { phase: "building index: scanning table" } })).toEqual({
      text: "progress (see the raw data).",
      tone: "info",
    });
  });
});
