import pg from "pg";
import { beforeEach, describe, expect, it } from "vitest";
import { verifyAudit } from "../audit/verify";
import { freshDatabase, pgServers } from "../testing/db";
import { RefusalLog } from "./refusals";

describe.each(pgServers())("refused requests in the audit log on $name PostgreSQL", (server) => {
  let pool: pg.Pool;
  beforeEach(async () => {
    pool = new pg.Pool({ connectionString: await freshDatabase(server) });
    return () => pool.end();
  });

  const rows = async () =>
    (await pool.query("SELECT action, details FROM audit_log WHERE action LIKE 'request.refused.%' ORDER BY id")).rows;

  it("writes a flood of refusals as one row per window with the count, not a row per request", async () => {
    const log = new RefusalLog(() => pool, 300);
    for (let i = 0; i < 200; i++)
      log.note("cross-site", { method: "POST", path: `/api/rollouts/${i}/approve`, origin: "http://evil.example" });
    expect(await rows()).toEqual([]); // nothing per request
    await new Promise((r) => setTimeout(r, 600));
    const [row, ...more] = await rows();
    expect(more).toEqual([]);
    expect(row.action).toBe("request.refused.cross-site");
    expect(row.details.count).toBe(200);
    expect(row.details.samples).toHaveLength(5);
    expect(row.details.samples[0]).toEqual({ method: "POST", path: "/api/rollouts/0/approve", origin: "http://evil.example" });
    expect((await verifyAudit(pool)).ok).toBe(true);
  });

  it("opens a new window after one closes, and flush writes what is open", async () => {
    const log = new RefusalLog(() => pool, 60_000);
    log.note("cross-site", { method: "POST", path: "/api/rollouts", origin: null });
    await log.flush();
    log.note("cross-site", { method: "POST", path: "/api/changesets", origin: null });
    log.note("cross-site", { method: "POST", path: "/api/changesets", origin: null });
    await log.flush();
    expect((await rows()).map((r) => r.details.count)).toEqual([1, 2]);
  });
});
