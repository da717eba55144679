import { describe, expect, it } from "vitest";
import { findings } from "./testing";

describe("require-concurrent-index-creation", () => {
  it("fires on CREATE INDEX and CREATE UNIQUE INDEX without CONCURRENTLY", async () => {
    expect(await findings("require-concurrent-index-creation", "CREATE INDEX i ON t (a);\nCREATE UNIQUE INDEX u ON t (b);\n")).toEqual([
      "1:1 index i is built without CONCURRENTLY: writes to t are blocked until it finishes",
      "2:1 index u is built without CONCURRENTLY: writes to t are blocked until it finishes",
    ]);
  });
  it("does not fire with CONCURRENTLY", async () => {
    expect(await findings("require-concurrent-index-creation", "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS u ON t (b);\n")).toEqual([]);
  });
});
