import { describe, expect, it } from "vitest";
import { pgServers } from "../../testing/db";
import { lintText } from "../lint";
import { findings, GUARDS, schemaOn } from "./testing";

const TABLES = `CREATE TABLE events (id int, at date) PARTITION BY RANGE (at);
  CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');`;

describe.each(pgServers())("partitioned-table on $name PostgreSQL", (server) => {
  it("is guidance (a warning) for CONCURRENTLY on a partitioned parent, saying pre-check expands it; silent on its partitions", async () => {
    const sql = "CREATE INDEX CONCURRENTLY a ON events (at);\nCREATE INDEX CONCURRENTLY b ON events_2026 (at);\n";
    const schema = await schemaOn(server, TABLES, sql);
    expect(await findings("partitioned-table", sql, schema)).toEqual([
      "1:1 public.events is partitioned: pre-check expands this into ON ONLY on the parent, a concurrent build on each partition and ATTACH PARTITION for each",
    ]);
    const report = await lintText({ file: "test.sql", text: `${GUARDS}${sql}`, schema });
    expect(report.findings.filter((f) => f.severity === "error")).toEqual([]);
  });

  it("passes the recipe written by hand (ON ONLY, CONCURRENTLY on the partition, ATTACH PARTITION) with no finding at all", async () => {
    const sql = `${GUARDS}CREATE INDEX IF NOT EXISTS events_at ON ONLY events (at);\nCREATE INDEX CONCURRENTLY IF NOT EXISTS events_2026_at ON events_2026 (at);\nALTER INDEX events_at ATTACH PARTITION events_2026_at;\n`;
    const schema = await schemaOn(server, TABLES, sql);
    const report = await lintText({ file: "test.sql", text: sql, schema });
    expect(report.findings.map((f) => `${f.line}:${f.column} ${f.rule}: ${f.message}`)).toEqual([]);
  });
});
