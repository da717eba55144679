import { describe, expect, it } from "vitest";
import { findings } from "./testing";

describe("drop-index-shape", () => {
  it("fires on several indexes in one DROP, and on CASCADE", async () => {
    expect(
      await findings("drop-index-shape", "DROP INDEX CONCURRENTLY IF EXISTS a, b;\nDROP INDEX CONCURRENTLY IF EXISTS c CASCADE;\n"),
    ).toEqual([
      "1:1 DROP INDEX of 2 indexes in one statement: write one DROP INDEX per index (PostgreSQL refuses several with CONCURRENTLY, and a rollout tracks each index on its own)",
      "2:1 DROP INDEX … CASCADE also drops what depends on the index (foreign keys that use it): drop those in a migration of their own",
    ]);
  });
  it("does not fire on one index without CASCADE", async () => {
    expect(
      await findings("drop-index-shape", "DROP INDEX CONCURRENTLY IF EXISTS public.a;\nDROP INDEX CONCURRENTLY b RESTRICT;\n"),
    ).toEqual([]);
  });
});
