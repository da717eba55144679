import { describe, expect, it } from "vitest";
import { pgServers } from "../../testing/db";
import { findings, schemaOn } from "./testing";

describe.each(pgServers())("partitioned-table on $name PostgreSQL", (server) => {
  it("fires for CONCURRENTLY on a partitioned parent, not on its partitions", async () => {
    const sql = "CREATE INDEX CONCURRENTLY a ON events (at);\nCREATE INDEX CONCURRENTLY b ON events_2026 (at);\n";
    const schema = await schemaOn(
      server,
      `CREATE TABLE events (at date) PARTITION BY RANGE (at);
      CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');`,
      sql,
    );
    expect(await findings("partitioned-table", sql, schema)).toEqual([
      "1:1 public.events is partitioned: CREATE INDEX CONCURRENTLY fails on it",
    ]);
  });
});
