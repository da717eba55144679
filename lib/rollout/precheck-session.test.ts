import pg from "pg";
import { describe, expect, it } from "vitest";
import { freshDatabase, freshRole, pgServers } from "../testing/db";
import { planChangeSet } from "./plan";
import { runPrecheck, type Attestations } from "./precheck";
import { seedOrders, testTargets } from "./testing";

const SQL = "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS orders_lower ON orders (lower(status));\n";

async function sessionCheck(url: string, environment: "staging" | "production", attestations: Attestations = {}) {
  const target = testTargets(url, url).find((t) => t.environment === environment)!;
  const tasks = await planChangeSet("s.sql", SQL, environment);
  const report = await runPrecheck({
    target,
    changesetName: "s.sql",
    sql: SQL,
    tasks,
    attestations: { by: "admin", ...attestations },
    stagingVerified: null,
    direct: true,
  });
  return report.checks.find((c) => c.id === "session")!;
}

describe.each(pgServers())("pre-check's build session on $name PostgreSQL", (server) => {
  it("shows the pinned search_path and warns about a superuser role", async () => {
    const url = await freshDatabase(server, "empty");
    await seedOrders(url, 1000);
    const check = await sessionCheck(url, "production");
    expect(check).toMatchObject({
      status: "warn",
      evidence: { searchPath: 'pg_catalog, "$user", public', schemas: ["pg_catalog", "public"], superuser: true, writableSchemas: [] },
    });
    expect(check.summary).toContain("the target role is a superuser");
  });

  it("passes for a role that is no superuser, with no schema on its path writable by others", async () => {
    const url = await freshDatabase(server, "empty");
    await seedOrders(url, 1000);
    const role = await freshRole(server);
    const check = await sessionCheck(role.url(url), "production");
    expect(check).toMatchObject({ status: "pass", evidence: { user: role.name, superuser: false } });
  });

  it("warns on staging and fails on production when others may CREATE in a schema on the path, unless an admin waives it in writing", async () => {
    const url = await freshDatabase(server, "empty");
    await seedOrders(url, 1000);
    const role = await freshRole(server);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`GRANT CREATE ON SCHEMA public TO PUBLIC; CREATE SCHEMA shared; GRANT CREATE ON SCHEMA shared TO "${role.name}"`);
    await c.end();
    const staging = await sessionCheck(url, "staging");
    expect(staging.status).toBe("warn");
    expect(staging.summary).toContain("public (CREATE: PUBLIC)");
    const prod = await sessionCheck(url, "production");
    expect(prod.status).toBe("fail");
    // A schema off the path doesn't count; put it on through the target's searchPath and it does.
    expect(prod.summary).not.toContain("shared");
    const waived = await sessionCheck(url, "production", { searchPathWaiver: "reviewed: only the app team has CREATE" });
    expect(waived).toMatchObject({
      status: "warn",
      summary: expect.stringContaining("waived by admin: reviewed: only the app team has CREATE"),
    });
  });
});
