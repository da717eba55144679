import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, pgServers } from "../testing/db";
import { verifyPlan } from "./verify";

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
    name: "orders_by_org", index: "orders_org", query: "SELECT * FROM orders WHERE org_id = $1",
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
