import { describe, expect, it } from "vitest";
import { findings } from "./testing";

describe("require-concurrent-index-deletion", () => {
  it("fires on DROP INDEX without CONCURRENTLY", async () => {
    expect(await findings("require-concurrent-index-deletion", "DROP INDEX IF EXISTS a, s.b;\n")).toEqual([
      "1:1 DROP INDEX a, b without CONCURRENTLY blocks all access to the table",
    ]);
  });
  it("does not fire on DROP INDEX CONCURRENTLY or on DROP TABLE", async () => {
    expect(await findings("require-concurrent-index-deletion", "DROP INDEX CONCURRENTLY a;\nDROP TABLE t;\n")).toEqual([]);
  });
});
