import { describe, expect, it } from "vitest";
import { findings } from "./testing";

describe("prefer-if-exists", () => {
  it("fires on DROP INDEX without IF EXISTS", async () => {
    expect(await findings("prefer-if-exists", "DROP INDEX CONCURRENTLY i;\n")).toEqual([
      "1:1 DROP INDEX i fails if the index is already gone",
    ]);
  });
  it("does not fire with IF EXISTS", async () => {
    expect(await findings("prefer-if-exists", "DROP INDEX CONCURRENTLY IF EXISTS i;\n")).toEqual([]);
  });
});
