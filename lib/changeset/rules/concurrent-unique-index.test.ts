import pg from "pg";
import { describe, expect, it } from "vitest";
import { freshDatabase, pgServers } from "../../testing/db";
import { findings } from "./testing";

describe("concurrent-unique-index", () => {
  it("fires on CREATE UNIQUE INDEX CONCURRENTLY", async () => {
    expect(
      await findings("concurrent-unique-index", "SELECT 1;\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS u ON payments (org_id, ref);\n"),
    ).toEqual([
      "2:1 unique index u is built concurrently: if the build fails after its first scan, the INVALID index it leaves still enforces uniqueness on new writes to payments until it is dropped",
    ]);
  });

  it("does not fire on a non-unique concurrent build or on a blocking unique build", async () => {
    expect(await findings("concurrent-unique-index", "CREATE INDEX CONCURRENTLY a ON t (x);\nCREATE UNIQUE INDEX b ON t (y);\n")).toEqual(
      [],
    );
  });
});

describe.each(pgServers())("what concurrent-unique-index warns of, on $name PostgreSQL", (server) => {
  it("a concurrent unique build that fails once the index is ready leaves an INVALID index that refuses new duplicates", async () => {
    const url = await freshDatabase(server, "empty");
    const builder = new pg.Client({ connectionString: url });
    const reader = new pg.Client({ connectionString: url });
    await builder.connect();
    await reader.connect();
    try {
      await builder.query("CREATE TABLE payments (ref int); INSERT INTO payments VALUES (1), (2)");
      // An open snapshot makes the build wait after it has marked the index ready; the timeout then fails it there.
      await reader.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
      await reader.query("SELECT 1");
      await builder.query("SET statement_timeout = '1s'");
      await expect(builder.query("CREATE UNIQUE INDEX CONCURRENTLY u ON payments (ref)")).rejects.toMatchObject({ code: "57014" });
      await reader.query("COMMIT");
      const { rows } = await builder.query(
        "SELECT indisvalid AS valid, indisready AS ready FROM pg_index WHERE indexrelid = 'u'::regclass",
      );
      expect(rows).toEqual([{ valid: false, ready: true }]);
      await expect(builder.query("INSERT INTO payments VALUES (2)")).rejects.toMatchObject({ code: "23505", constraint: "u" });
    } finally {
      await builder.end();
      await reader.end();
    }
  });
});
