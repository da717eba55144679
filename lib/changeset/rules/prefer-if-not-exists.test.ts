import { describe, expect, it } from "vitest";
import { findings } from "./testing";

describe("prefer-if-not-exists", () => {
  it("fires on a named CREATE INDEX without IF NOT EXISTS", async () => {
    expect(await findings("prefer-if-not-exists", "CREATE INDEX CONCURRENTLY i ON t (a);\n")).toEqual([
      "1:1 CREATE INDEX i fails on a re-run once the index exists",
    ]);
  });
  it("does not fire with IF NOT EXISTS", async () => {
    expect(await findings("prefer-if-not-exists", "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);\n")).toEqual([]);
  });
});
