import { describe, expect, it } from "vitest";
import { findings } from "./testing";

describe("duplicate-index-name", () => {
  it("fires on the second use of a name, case-folded as PostgreSQL does", async () => {
    expect(await findings("duplicate-index-name", "CREATE INDEX CONCURRENTLY a ON t (x);\n\nCREATE INDEX CONCURRENTLY A ON u (y);\n")).toEqual([
      "3:1 index name a is already created at line 1",
    ]);
  });
  it("does not fire on distinct names or the same name in different schemas", async () => {
    expect(await findings("duplicate-index-name", "CREATE INDEX CONCURRENTLY a ON t (x);\nCREATE INDEX CONCURRENTLY \"A\" ON t (y);\nCREATE INDEX CONCURRENTLY a ON s.t (x);\n")).toEqual([]);
  });
});
