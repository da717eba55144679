import { describe, expect, it } from "vitest";
import { findings } from "./testing";

describe("require-concurrent-reindex", () => {
  it("fires on REINDEX without CONCURRENTLY", async () => {
    expect(await findings("require-concurrent-reindex", "REINDEX INDEX i;\nREINDEX (VERBOSE) TABLE t;\n")).toHaveLength(2);
  });
  it("does not fire on REINDEX ... CONCURRENTLY", async () => {
    expect(
      await findings("require-concurrent-reindex", "REINDEX INDEX CONCURRENTLY i;\nREINDEX (VERBOSE) TABLE CONCURRENTLY t;\n"),
    ).toEqual([]);
  });
});
