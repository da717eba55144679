import { describe, expect, it } from "vitest";
import { pgServers } from "../../testing/db";
import { findings, schemaOn } from "./testing";

describe.each(pgServers())("redundant-index on $name PostgreSQL", (server) => {
  const ddl = `CREATE TABLE t (a int, b int, c int);
    CREATE INDEX t_a_b ON t (a, b);
    CREATE INDEX t_c_partial ON t (c) WHERE a > 0;
    CREATE INDEX t_hash_b ON t USING hash (b);`;

  it("fires for an equal index, a prefix of an existing one, and one that makes an existing one redundant", async () => {
    const sql =
      "CREATE INDEX CONCURRENTLY n1 ON t (a, b);\nCREATE INDEX CONCURRENTLY n2 ON t (a);\nCREATE INDEX CONCURRENTLY n3 ON t (a, b, c);\n";
    const schema = await schemaOn(server, ddl, sql);
    expect(await findings("redundant-index", sql, schema)).toEqual([
      "1:1 n1 (a, b) has the same columns as existing index t_a_b (a, b)",
      "2:1 n2 (a) is a leading prefix of existing index t_a_b (a, b)",
      "3:1 existing index t_a_b (a, b) is a leading prefix of n3 (a, b, c) and becomes redundant",
    ]);
  });

  it("does not fire for other column orders, partial indexes, expressions or other methods", async () => {
    const sql =
      "CREATE INDEX CONCURRENTLY m1 ON t (b, a);\nCREATE INDEX CONCURRENTLY m2 ON t (c);\nCREATE INDEX CONCURRENTLY m3 ON t (a) WHERE b > 0;\nCREATE INDEX CONCURRENTLY m4 ON t ((a + 1));\nCREATE INDEX CONCURRENTLY m5 ON t (b);\n";
    const schema = await schemaOn(server, ddl, sql);
    expect(await findings("redundant-index", sql, schema)).toEqual([]);
  });
});
