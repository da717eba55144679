import { describe, expect, it } from "vitest";
import { quoteIdent } from "../sql/quote";
import { freshDatabase, pgServers } from "../testing/db";
import { buildSearchPath, openApplySession, runStatement, withApplySession } from "./session";
import { withClient } from "../store/pool";

describe("buildSearchPath", () => {
  it("puts pg_catalog first, then the configured schemas quoted, or else the role's path", () => {
    expect(buildSearchPath(["app", 'We"ird'], '"$user", public')).toBe('pg_catalog, "app", "We""ird"');
    expect(buildSearchPath(undefined, '"$user", public')).toBe('pg_catalog, "$user", public');
    expect(buildSearchPath(undefined, "")).toBe("pg_catalog");
  });
});

describe.each(pgServers())("the apply session on $name PostgreSQL", (server) => {
  it("runs CREATE, REINDEX and DROP INDEX CONCURRENTLY through the extended protocol, and refuses two statements in one string", async () => {
    const url = await freshDatabase(server, "empty");
    await withClient(url, (c) =>
      c.query(
        "CREATE TABLE t (a int, b text); INSERT INTO t SELECT g, g::text FROM generate_series(1, 5000) g; CREATE TABLE canary (x int)",
      ),
    );
    await withApplySession({ url, applicationName: "indexdeck:test" }, async (s) => {
      for (const sql of [
        "CREATE INDEX CONCURRENTLY t_a ON t (a)",
        "REINDEX INDEX CONCURRENTLY t_a",
        "REINDEX TABLE CONCURRENTLY t",
        "COMMENT ON INDEX t_a IS 'x'",
        "ANALYZE t",
      ]) {
        await runStatement(s, sql);
      }
      const {
        rows: [idx],
      } = await s.query(
        "SELECT i.indisvalid AS valid, obj_description(i.indexrelid, 'pg_class') AS comment FROM pg_index i WHERE i.indexrelid = 't_a'::regclass",
      );
      expect(idx).toEqual({ valid: true, comment: "x" });
      await expect(runStatement(s, "CREATE INDEX CONCURRENTLY t_b ON t (b); DROP TABLE canary")).rejects.toMatchObject({ code: "42601" });
      await runStatement(s, "DROP INDEX CONCURRENTLY t_a");
    });
    const left = await withClient(url, (c) =>
      c.query("SELECT to_regclass('t_a') AS a, to_regclass('t_b') AS b, to_regclass('canary') AS canary"),
    );
    expect(left.rows[0]).toEqual({ a: null, b: null, canary: "canary" });
  });

  it("pins lexing and timeouts over the database's and role's defaults, RESET included, and fixes search_path with pg_catalog first", async () => {
    const url = await freshDatabase(server, "empty");
    const db = new URL(url).pathname.slice(1);
    await withClient(url, (c) =>
      c.query(
        `ALTER DATABASE ${quoteIdent(db)} SET standard_conforming_strings = off; ALTER DATABASE ${quoteIdent(db)} SET lock_timeout = 0; ALTER DATABASE ${quoteIdent(db)} SET search_path = evil, public`,
      ),
    );
    const { client, evidence } = await openApplySession({ url, applicationName: "indexdeck:test", searchPath: ["public"] });
    try {
      expect(evidence.settings).toEqual({ standard_conforming_strings: "on", backslash_quote: "safe_encoding", client_encoding: "UTF8" });
      expect(evidence.searchPath).toBe('pg_catalog, "public"');
      expect(evidence.schemas).toEqual(["pg_catalog", "public"]);
      await runStatement(client, "RESET lock_timeout");
      await runStatement(client, "RESET standard_conforming_strings");
      const {
        rows: [now],
      } = await client.query(
        "SELECT current_setting('lock_timeout') AS lock, current_setting('standard_conforming_strings') AS scs, current_setting('statement_timeout') AS st",
      );
      expect(now).toEqual({ lock: "2s", scs: "on", st: "0" });
    } finally {
      await client.end();
    }
    // Without a configured path the role's own follows pg_catalog.
    const roleDefault = await withApplySession(
      { url, applicationName: "indexdeck:test" },
      async (c) => (await c.query("SHOW search_path")).rows[0].search_path,
    );
    expect(roleDefault).toBe("pg_catalog, evil, public");
  });

  it("pins over a connection URL whose options turn standard_conforming_strings off", async () => {
    const url = await freshDatabase(server, "empty");
    const u = new URL(url);
    u.searchParams.set("options", "-c standard_conforming_strings=off");
    const scs = await withApplySession(
      { url: u.toString(), applicationName: "indexdeck:test" },
      async (c) => (await c.query("SHOW standard_conforming_strings")).rows[0].standard_conforming_strings,
    );
    expect(scs).toBe("on");
  });
});
