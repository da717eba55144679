import { describe, expect, it } from "vitest";
import { findings } from "./testing";

describe("require-lock-timeout", () => {
  it("fires once, on the first index statement, when lock_timeout is not set before it", async () => {
    const sql =
      "SET statement_timeout = 0;\nCREATE INDEX CONCURRENTLY a ON t (x);\nSET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY b ON t (y);\n";
    expect(await findings("require-lock-timeout", sql)).toEqual([
      "2:1 no SET lock_timeout before the first index statement: it runs under whatever the server or role default is",
    ]);
  });
  it("does not fire when set first, nor when RESET is followed by a new SET, nor on files without index statements", async () => {
    expect(await findings("require-lock-timeout", "SET lock_timeout TO '1s';\nDROP INDEX CONCURRENTLY IF EXISTS a;\n")).toEqual([]);
    expect(await findings("require-lock-timeout", "ANALYZE t;\n")).toEqual([]);
  });
  it("ignores SET LOCAL, which has no effect outside a transaction", async () => {
    expect(await findings("require-lock-timeout", "SET LOCAL lock_timeout = '1s';\nREINDEX INDEX CONCURRENTLY a;\n")).toHaveLength(1);
  });
});
