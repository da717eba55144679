import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withClient } from "../store/pool";
import { freshDatabase, freshRole, pgServers } from "../testing/db";
import { planChangeSet } from "./plan";
import { testTargets } from "./testing";
import { runVerify, verifyPlan } from "./verify";

describe.each(pgServers())("verify's plan check on $name PostgreSQL", (server) => {
  let db: pg.Client;
  beforeAll(async () => {
    db = new pg.Client({ connectionString: await freshDatabase(server, "empty") });
    await db.connect();
    // Org 0 owns most rows, so a scan beats the index for it; every other org is rare.
    await db.query(`CREATE TABLE orders AS SELECT CASE WHEN i % 10 < 7 THEN 0 ELSE i % 1000 END AS org_id, i AS id FROM generate_series(1, 100000) i;
                    CREATE INDEX orders_org ON orders (org_id); ANALYZE orders;`);
  });
  afterAll(() => db.end());

  const workload = (orgs: number[]) => ({
    name: "orders_by_org",
    index: "orders_org",
    query: "SELECT * FROM orders WHERE org_id = $1",
    paramsQuery: `SELECT org_id FROM (VALUES ${orgs.map((o, i) => `(${o}, ${i})`).join(", ")}) v(org_id, n) ORDER BY n`,
  });

  it("passes when most sampled parameters use the index, saying for how many", async () => {
    const check = await verifyPlan(db, workload([0, 7, 8, 9, 17]));
    expect(check).toMatchObject({ id: "plan:orders_by_org", status: "pass" });
    expect(check.summary).toContain("uses orders_org for 4 of 5 sampled parameter sets");
  });

  it("fails when most sampled parameters don't, naming what the planner chose instead", async () => {
    const check = await verifyPlan(db, workload([0, 0, 0, 7, 8]));
    expect(check.status).toBe("fail");
    expect(check.summary).toMatch(/^uses orders_org for 2 of 5 sampled parameter sets; otherwise the planner chose Seq Scan/);
  });

  it("warns on a table with nothing to sample", async () => {
    const check = await verifyPlan(db, { ...workload([]), paramsQuery: "SELECT org_id FROM orders WHERE false" });
    expect(check.status).toBe("warn");
  });
});

describe.each(pgServers())("verify's amcheck on $name PostgreSQL", (server) => {
  const SQL = "CREATE INDEX CONCURRENTLY IF NOT EXISTS t_k ON t (k);\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_h ON t USING hash (k);\n";

  async function verifyOn(url: string) {
    const [target] = testTargets(url);
    const report = await runVerify(target, await planChangeSet("a.sql", SQL, "staging"), []);
    return Object.fromEntries(report.indexes.map((c) => [c.title, c]));
  }

  it("checks each new B-tree with bt_index_check where amcheck is installed, and says 'not measured' where it can't", async () => {
    const url = await freshDatabase(server, "empty");
    await withClient(url, (c) =>
      c.query(
        "CREATE TABLE t (k int); INSERT INTO t SELECT generate_series(1, 5000); CREATE INDEX t_k ON t (k); CREATE INDEX t_h ON t USING hash (k)",
      ),
    );
    const without = await verifyOn(url);
    expect(without.t_k).toMatchObject({ status: "pass", evidence: { amcheck: { status: "not_measured" } } });
    expect(without.t_k.summary).toContain("amcheck: not measured (amcheck not installed");
    await withClient(url, (c) => c.query("CREATE EXTENSION amcheck"));
    const withIt = await verifyOn(url);
    expect(withIt.t_k).toMatchObject({ status: "pass", evidence: { amcheck: { status: "ok", detail: "amcheck bt_index_check: ok" } } });
    expect(withIt.t_h.summary).toContain("amcheck: not measured (a hash index");
    // A role without EXECUTE on it: not measured, not a pass of the check and not a failure of verify.
    const role = await freshRole(server);
    await withClient(url, (c) => c.query(`GRANT SELECT ON t TO "${role.name}"`));
    const limited = await verifyOn(role.url(url));
    expect(limited.t_k).toMatchObject({
      status: "pass",
      evidence: { amcheck: { status: "not_measured", detail: "amcheck: not measured (this role may not execute bt_index_check)" } },
    });
  });
});
