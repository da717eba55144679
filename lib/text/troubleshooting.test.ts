import { describe, expect, it } from "vitest";
import { FAILURE_CODES, TROUBLESHOOTING, troubleshootingFor, troubleshootingForCheck } from "./troubleshooting";

describe("troubleshooting entries", () => {
  it("are chosen by the failure's code, whatever its message says", () => {
    expect(troubleshootingFor("lock_timeout")).toBe("lock-timeout");
    expect(troubleshootingFor("statement_timeout")).toBe("statement-timeout");
    expect(troubleshootingFor("unique_violation")).toBe("unique-violation");
    expect(troubleshootingFor("invalid_index")).toBe("invalid-index");
    expect(troubleshootingFor("connection_lost")).toBe("connection-lost");
    expect(troubleshootingFor("target_unreachable")).toBe("connection-lost");
    // A failure with no code, or one no entry explains, links to nothing rather than to a guess.
    expect(troubleshootingFor(null)).toBeNull();
    expect(troubleshootingFor("sha256_mismatch")).toBeNull();
  });
  it("match the checks that did not pass by their code, and nothing that passed", () => {
    expect(troubleshootingForCheck({ status: "fail", code: "disk_low" })).toBe("disk-low");
    expect(troubleshootingForCheck({ status: "fail", code: "disk_unknown" })).toBe("disk-low");
    expect(troubleshootingForCheck({ status: "warn", code: "replica_lag" })).toBe("replica-lag");
    expect(troubleshootingForCheck({ status: "warn", code: "old_snapshot" })).toBe("old-snapshot");
    expect(troubleshootingForCheck({ status: "fail", code: "planner_not_using_index" })).toBe("planner-not-using-index");
    expect(troubleshootingForCheck({ status: "pass", code: "planner_not_using_index" })).toBeNull();
    expect(troubleshootingForCheck({ status: "warn", code: "window_overridden" })).toBeNull();
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
    // Each entry is reached from at least one code.
    expect(new Set(FAILURE_CODES.map(troubleshootingFor).filter(Boolean)).size).toBe(Object.keys(TROUBLESHOOTING).length);
  });
});
