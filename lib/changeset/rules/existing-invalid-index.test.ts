import { describe, expect, it } from "vitest";
import { pgServers } from "../../testing/db";
import { findings, schemaOn } from "./testing";

describe.each(pgServers())("existing-invalid-index on $name PostgreSQL", (server) => {
  // A unique index build that fails on duplicates leaves an INVALID index, as a timeout would.
  const ddl = `CREATE TABLE t (x int); INSERT INTO t VALUES (1), (1);
    CREATE INDEX ok_idx ON t (x);`;

  it("fires when an INVALID index with the name exists, not for a valid one", async () => {
    const sql = "CREATE INDEX CONCURRENTLY IF NOT EXISTS broken_idx ON t (x);\nCREATE INDEX CONCURRENTLY IF NOT EXISTS ok_idx ON t (x);\n";
    const schema = await schemaOn(
      server,
      `${ddl}
      CREATE UNIQUE INDEX broken_idx ON t (x) WHERE x > 0;
    `.replace(
        "CREATE UNIQUE INDEX broken_idx ON t (x) WHERE x > 0;",
        "CREATE INDEX broken_idx ON t (x); UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'broken_idx'::regclass;",
      ),
      sql,
    );
    expect(await findings("existing-invalid-index", sql, schema)).toEqual(["1:1 index broken_idx already exists on t and is INVALID"]);
  });
});
