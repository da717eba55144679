import { randomBytes } from "node:crypto";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { appendAudit } from "../audit/log";
import { verifyAudit } from "../audit/verify";
import { quoteIdent } from "../sql/quote";
import { freshDatabase, pgServers } from "../testing/db";
import { withTransaction } from "./pool";

describe.each(pgServers())("withTransaction on $name PostgreSQL", (server) => {
  it("keeps audit commits synchronous for a role that may not call pg_logical_emit_message, instead of failing after the commit", async () => {
    const url = await freshDatabase(server);
    const role = `r_${randomBytes(5).toString("hex")}`;
    const password = randomBytes(12).toString("hex");
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`CREATE ROLE ${quoteIdent(role)} LOGIN PASSWORD '${password}'`);
      await admin.query(`GRANT USAGE ON SCHEMA public TO ${quoteIdent(role)};
        GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO ${quoteIdent(role)};
        GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO ${quoteIdent(role)};
        DO $$ DECLARE f regprocedure; BEGIN
          FOR f IN SELECT oid::regprocedure FROM pg_proc WHERE proname = 'pg_logical_emit_message' LOOP
            EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
          END LOOP;
        END $$`);
      const asRole = Object.assign(new URL(url), { username: role, password }).toString();
      const pool = new pg.Pool({ connectionString: asRole, max: 1 });
      try {
        await expect(pool.query("SELECT pg_logical_emit_message(true, 'x', '')")).rejects.toThrow(/permission denied/);
        for (let i = 0; i < 3; i++) {
          await withTransaction(pool, (tx) => appendAudit(tx, { actor: role, role: "dba", action: "test.sync", details: { i } }));
        }
        expect(await verifyAudit(pool)).toMatchObject({ ok: true, rows: 3 });
      } finally {
        await pool.end();
      }
    } finally {
      await admin.query(`DROP OWNED BY ${quoteIdent(role)}`).catch(() => undefined);
      await admin.end();
      const postgres = new pg.Client({ connectionString: Object.assign(new URL(url), { pathname: "/postgres" }).toString() });
      await postgres.connect();
      await postgres.query(`DROP DATABASE IF EXISTS ${quoteIdent(new URL(url).pathname.slice(1))} WITH (FORCE)`);
      await postgres.query(`DROP ROLE IF EXISTS ${quoteIdent(role)}`).finally(() => postgres.end());
    }
  });
});
