import { describe, expect, it } from "vitest";
import { pgServers } from "../../testing/db";
import { lintText } from "../lint";
import { schemaOn } from "./testing";

describe.each(pgServers())("timeout-too-short on $name PostgreSQL", (server) => {
  const ddl = "CREATE TABLE big AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 50000) g;";
  const sql = "SET statement_timeout = '1s';\nCREATE INDEX CONCURRENTLY big_v ON big (v);\n";

  it("fires when the timeout is below size / rate × safety factor", async () => {
    const schema = await schemaOn(server, ddl, sql);
    // ~3.5 MB at 1 MB/s × 2 × 2 (concurrent) ≈ 14 s > 1 s
    const r = await lintText({ file: "f", text: sql, schema, options: { buildBytesPerSecond: 1024 * 1024 } });
    const f = r.findings.filter((x) => x.rule === "timeout-too-short");
    expect(f).toHaveLength(1);
    expect(f[0].message).toMatch(/statement_timeout 1 s is shorter than the estimated build time of big_v: \d+(\.\d)? s for \d+ MB of big/);
  });

  it("does not fire when the rate makes the build fit, or without a timeout", async () => {
    const schema = await schemaOn(server, ddl, sql);
    const fast = await lintText({ file: "f", text: sql, schema, options: { buildBytesPerSecond: 1024 ** 3 } });
    expect(fast.findings.filter((x) => x.rule === "timeout-too-short")).toEqual([]);
    const none = await lintText({ file: "f", text: sql.replace("'1s'", "0"), schema });
    expect(none.findings.filter((x) => x.rule === "timeout-too-short")).toEqual([]);
  });
});
