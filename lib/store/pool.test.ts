import pg from "pg";
import { describe, expect, it } from "vitest";
import { appendAudit } from "../audit/log";
import { verifyAudit } from "../audit/verify";
import { quoteIdent } from "../sql/quote";
import { freshDatabase, freshRole, pgServers } from "../testing/db";
import { withTransaction } from "./pool";

describe.each(pgServers())("withTransaction on $name PostgreSQL", (server) => {
  it("keeps audit commits synchronous for a role that may not call pg_logical_emit_message, instead of failing after the commit", async () => {
    const url = await freshDatabase(server);
    const role = await freshRole(server);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`GRANT USAGE ON SCHEMA public TO ${quoteIdent(role.name)};
        GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO ${quoteIdent(role.name)};
        GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO ${quoteIdent(role.name)};
        DO $$ DECLARE f regprocedure; BEGIN
          FOR f IN SELECT oid::regprocedure FROM pg_proc WHERE proname = 'pg_logical_emit_message' LOOP
            EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
          END LOOP;
        END $$`);
    } finally {
      await admin.end();
    }
    const pool = new pg.Pool({ connectionString: role.url(url), max: 1 });
    try {
      await expect(pool.query("SELECT pg_logical_emit_message(true, 'x', '')")).rejects.toThrow(/permission denied/);
      for (let i = 0; i < 3; i++) {
        await withTransaction(pool, (tx) => appendAudit(tx, { actor: role.name, role: "dba", action: "test.sync", details: { i } }));
      }
      expect(await verifyAudit(pool)).toMatchObject({ ok: true, rows: 3 });
    } finally {
      await pool.end();
    }
  });
});
