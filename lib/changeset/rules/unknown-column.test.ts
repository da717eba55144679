import { describe, expect, it } from "vitest";
import { pgServers } from "../../testing/db";
import { findings, schemaOn } from "./testing";

describe.each(pgServers())("unknown-column on $name PostgreSQL", (server) => {
  it("fires for missing key, expression, INCLUDE and WHERE columns", async () => {
    const sql =
      "CREATE INDEX CONCURRENTLY a ON t (org_id, stauts) INCLUDE (amt) WHERE delted_at IS NULL;\nCREATE INDEX CONCURRENTLY b ON t (lower(nmae));\n";
    const schema = await schemaOn(server, "CREATE TABLE t (org_id int, status text, amount int, deleted_at timestamptz, name text);", sql);
    expect((await findings("unknown-column", sql, schema)).sort()).toEqual([
      "1:1 column amt does not exist in public.t",
      "1:1 column delted_at does not exist in public.t",
      "1:1 column stauts does not exist in public.t",
      "2:1 column nmae does not exist in public.t",
    ]);
  });
  it("does not fire when every column exists", async () => {
    const sql = "CREATE INDEX CONCURRENTLY a ON t (org_id, lower(name)) INCLUDE (amount) WHERE t.deleted_at IS NULL;\n";
    const schema = await schemaOn(server, "CREATE TABLE t (org_id int, amount int, deleted_at timestamptz, name text);", sql);
    expect(await findings("unknown-column", sql, schema)).toEqual([]);
  });
});
