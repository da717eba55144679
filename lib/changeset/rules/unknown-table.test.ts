import { describe, expect, it } from "vitest";
import { pgServers } from "../../testing/db";
import { findings, schemaOn } from "./testing";

describe.each(pgServers())("unknown-table on $name PostgreSQL", (server) => {
  it("fires for a missing table and not for existing ones, schema-qualified or not", async () => {
    const sql =
      "CREATE INDEX CONCURRENTLY a ON payments (id);\nCREATE INDEX CONCURRENTLY b ON app.orders (id);\nCREATE INDEX CONCURRENTLY c ON paymnts (id);\n";
    const schema = await schemaOn(server, "CREATE TABLE payments (id int); CREATE SCHEMA app; CREATE TABLE app.orders (id int);", sql);
    expect(await findings("unknown-table", sql, schema)).toEqual(["3:1 table paymnts does not exist on the target"]);
  });
});
