import { describe, expect, it } from "vitest";
import { TROUBLESHOOTING, troubleshootingFor, troubleshootingForCheck } from "./troubleshooting";

describe("troubleshooting entries", () => {
  it("match the failures apply reports", () => {
    expect(troubleshootingFor("could not get the lock after 5 attempts (lock_timeout); held by pid 7")).toBe("lock-timeout");
    expect(troubleshootingFor("statement_timeout cancelled the build of i: canceling statement due to statement timeout")).toBe(
      "statement-timeout",
    );
    expect(troubleshootingFor("unique index u cannot be built: could not create unique index")).toBe("unique-violation");
    expect(troubleshootingFor("INVALID index i is still on the target")).toBe("invalid-index");
    expect(troubleshootingFor("the connection to the target was lost during i")).toBe("connection-lost");
    expect(troubleshootingFor("rejected by dba: no")).toBeNull();
  });
  it("match the checks that did not pass, and nothing that passed", () => {
    expect(troubleshootingForCheck("disk-space", "fail")).toBe("disk-low");
    expect(troubleshootingForCheck("replication", "warn")).toBe("replica-lag");
    expect(troubleshootingForCheck("old-transactions", "warn")).toBe("old-snapshot");
    expect(troubleshootingForCheck("plan:payments", "fail")).toBe("planner-not-using-index");
    expect(troubleshootingForCheck("plan:payments", "pass")).toBeNull();
  });
  it("has an entry for every failure the playbook names", () => {
    expect(Object.keys(TROUBLESHOOTING).sort()).toEqual([
      "connection-lost",
      "disk-low",
      "invalid-index",
      "lock-timeout",
      "old-snapshot",
      "planner-not-using-index",
      "replica-lag",
      "statement-timeout",
      "unique-violation",
    ]);
  });
});
