import { describe, expect, it } from "vitest";
import pg from "pg";
import { authenticate } from "../auth/users";
import { freshDatabase, pgServers } from "../testing/db";
import { runCli } from "./testing";

describe.each(pgServers())("indexdeck users add on $name PostgreSQL", (server) => {
  it("creates a user with a password from stdin or a generated one printed once, audited", async () => {
    const url = await freshDatabase(server);
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = url;
    try {
      expect(await runCli(["users", "add", "--email", "ana", "--role", "dba"], "a long enough password\n")).toEqual({ code: 0, out: "created ana (dba)\n", err: "" });
      const generated = await runCli(["users", "add", "--email", "bo", "--role", "manager"]);
      const password = /password: (\S+)/.exec(generated.out)![1];
      expect(password).toHaveLength(20);
      const pool = new pg.Pool({ connectionString: url });
      expect(await authenticate(pool, "bo", password)).toMatchObject({ ok: true, actor: { role: "manager" } });
      expect(await authenticate(pool, "ana", "a long enough password")).toMatchObject({ ok: true, actor: { role: "dba" } });
      const { rows } = await pool.query("SELECT count(*)::int AS n FROM audit_log WHERE action = 'user.create'");
      expect(rows[0].n).toBe(2);
      await pool.end();
      expect(await runCli(["users", "add", "--email", "x", "--role", "root"])).toMatchObject({ code: 2, err: expect.stringContaining("--role: role must be one of admin, dba, sre, manager, engineer") });
      expect(await runCli(["users", "add", "--email", "ana", "--role", "dba"], "another long password")).toMatchObject({ code: 1, err: expect.stringContaining("a user named ana already exists") });
      expect(await runCli(["users", "add", "--email", "short", "--role", "dba"], "short")).toMatchObject({ code: 2, err: expect.stringContaining("at least 12 characters") });
    } finally {
      process.env.DATABASE_URL = saved;
    }
  });
});
