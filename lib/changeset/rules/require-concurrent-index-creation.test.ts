import { describe, expect, it } from "vitest";
import { pgServers } from "../../testing/db";
import { findings, schemaOn } from "./testing";

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
  it("does not fire on ON ONLY, the partitioned-index recipe's first step, when nothing says the table is not partitioned", async () => {
    expect(await findings("require-concurrent-index-creation", "CREATE INDEX p ON ONLY events (at);\n")).toEqual([]);
  });
});

describe.each(pgServers())("require-concurrent-index-creation with the catalog of $name PostgreSQL", (server) => {
  it("fires on ON ONLY of a table that is not partitioned (ONLY changes nothing there), not on a partitioned one", async () => {
    const sql = "CREATE INDEX a ON ONLY plain (at);\nCREATE INDEX b ON ONLY events (at);\n";
    const schema = await schemaOn(
      server,
      `CREATE TABLE plain (at date);
      CREATE TABLE events (at date) PARTITION BY RANGE (at);`,
      sql,
    );
    expect(await findings("require-concurrent-index-creation", sql, schema)).toEqual([
      "1:1 index a is built without CONCURRENTLY (ON ONLY: public.plain is not partitioned, so the whole index is built): writes to plain are blocked until it finishes",
    ]);
  });
});
