import { describe, expect, it } from "vitest";
import { findings } from "./testing";

describe("reindex-scope", () => {
  it("fires on REINDEX SCHEMA, DATABASE and SYSTEM, concurrently or not", async () => {
    expect(
      await findings("reindex-scope", "REINDEX DATABASE CONCURRENTLY;\nREINDEX SCHEMA CONCURRENTLY public;\nREINDEX SYSTEM;\n"),
    ).toEqual([
      "1:1 REINDEX DATABASE rebuilds every index of the database: name the INDEX or TABLE to rebuild",
      "2:1 REINDEX SCHEMA rebuilds every index of the schema: name the INDEX or TABLE to rebuild",
      "3:1 REINDEX SYSTEM rebuilds every index of the system catalog, and can't run CONCURRENTLY: name the INDEX or TABLE to rebuild",
    ]);
  });
  it("does not fire on REINDEX of an index or a table, and require-concurrent-reindex gives no advice that can't work", async () => {
    expect(await findings("reindex-scope", "REINDEX INDEX CONCURRENTLY i;\nREINDEX TABLE CONCURRENTLY t;\n")).toEqual([]);
    expect(await findings("require-concurrent-reindex", "REINDEX SYSTEM;\nREINDEX DATABASE;\n")).toEqual([]);
  });
  it("reads CONCURRENTLY's value, not only its presence", async () => {
    expect(
      await findings(
        "require-concurrent-reindex",
        "REINDEX (CONCURRENTLY false) TABLE t;\nREINDEX (CONCURRENTLY 0) INDEX i;\nREINDEX (CONCURRENTLY off) INDEX i;\n",
      ),
    ).toHaveLength(3);
    expect(
      await findings(
        "require-concurrent-reindex",
        "REINDEX (CONCURRENTLY) TABLE t;\nREINDEX (CONCURRENTLY true) INDEX i;\nREINDEX (CONCURRENTLY 1, VERBOSE) INDEX i;\n",
      ),
    ).toEqual([]);
  });
});
