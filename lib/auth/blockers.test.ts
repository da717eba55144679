import { describe, expect, it } from "vitest";
import type { RolloutEvent } from "../rollout/events";
import { ROLES } from "./policy";
import { QUERY_TEXT_LIMIT, visibleEvent } from "./blockers";

const secretQuery = `UPDATE customers SET card = '4111-1111-1111-1111' WHERE email = 'jane@example.com'; ${"x".repeat(400)}`;
const blocker = { pid: 4242, user: "app", application: "billing", state: "idle in transaction", xactAgeSeconds: 93.5, query: secretQuery };
const progress = (): RolloutEvent => ({
  id: 7,
  rolloutId: 1,
  at: new Date(0),
  kind: "progress",
  taskSeq: 0,
  data: {
    index: "ix",
    phase: "waiting for old snapshots",
    percent: 10,
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
  },
});
const lockTimeout = (): RolloutEvent => ({
  id: 8,
  rolloutId: 1,
  at: new Date(0),
  kind: "lock_timeout",
  taskSeq: 0,
  data: { attempt: 1, message: "canceling statement due to lock timeout", blockers: [blocker] },
});

describe("blocking sessions' query text", () => {
  it("is shown from production only to dba, sre and admin, cut to the limit", () => {
    const shown = ROLES.filter((role) => {
      const [b] = (visibleEvent(progress(), role, "production").data as { blockers: Array<typeof blocker> }).blockers;
      return b.query !== undefined;
    });
    expect(shown.sort()).toEqual(["admin", "dba", "sre"]);
    const [b] = (visibleEvent(progress(), "dba", "production").data as { blockers: Array<typeof blocker> }).blockers;
    expect(b.query).toBe(`${secretQuery.slice(0, QUERY_TEXT_LIMIT)}…`);
    expect(QUERY_TEXT_LIMIT).toBe(200);
  });

  it("leaves engineers and managers pid, user, application, state and age, in every event that names blockers", () => {
    for (const role of ["engineer", "manager"] as const) {
      for (const event of [progress(), lockTimeout()]) {
        const seen = visibleEvent(event, role, "production");
        expect((seen.data as { blockers: unknown }).blockers).toEqual([
          { pid: 4242, user: "app", application: "billing", state: "idle in transaction", xactAgeSeconds: 93.5 },
        ]);
        expect(JSON.stringify(seen)).not.toContain("4111");
      }
    }
  });

  it("cuts staging's query text for everyone but keeps it readable, and leaves events without blockers alone", () => {
    const [b] = (visibleEvent(progress(), "engineer", "staging").data as { blockers: Array<typeof blocker> }).blockers;
    expect(b.query).toHaveLength(QUERY_TEXT_LIMIT + 1);
    const plain: RolloutEvent = {
      id: 9,
      rolloutId: 1,
      at: new Date(0),
      kind: "task_status",
      taskSeq: 0,
      data: { status: "done", error: null },
    };
    expect(visibleEvent(plain, "engineer", "production")).toBe(plain);
  });
});
