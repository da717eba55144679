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
      expect(await runCli(["users", "add", "--email", "ana", "--role", "dba"], "a long enough password\n")).toEqual({
        code: 0,
        out: "created ana (dba)\n",
        err: "",
      });
      const generated = await runCli(["users", "add", "--email", "bo", "--role", "manager"]);
      const password = /password: (\S+)/.exec(generated.out)![1];
      expect(password).toHaveLength(20);
      const pool = new pg.Pool({ connectionString: url });
      expect(await authenticate(pool, "bo", password)).toMatchObject({ ok: true, actor: { role: "manager" } });
      expect(await authenticate(pool, "ana", "a long enough password")).toMatchObject({ ok: true, actor: { role: "dba" } });
      const { rows } = await pool.query("SELECT count(*)::int AS n FROM audit_log WHERE action = 'user.create'");
      expect(rows[0].n).toBe(2);
      await pool.end();
      expect(await runCli(["users", "add", "--email", "x", "--role", "root"])).toMatchObject({
        code: 2,
        err: expect.stringContaining("--role: role must be one of admin, dba, sre, manager, engineer"),
      });
      expect(await runCli(["users", "add", "--email", "ana", "--role", "dba"], "another long password")).toMatchObject({
        code: 1,
        err: expect.stringContaining("a user named ana already exists"),
      });
      expect(await runCli(["users", "add", "--email", "short", "--role", "dba"], "short")).toMatchObject({
        code: 2,
        err: expect.stringContaining("at least 12 characters"),
      });
    } finally {
      process.env.DATABASE_URL = saved;
    }
  });
});

describe.each(pgServers())("indexdeck users disable|enable|set-role|list on $name PostgreSQL", (server) => {
  it("manages users from the CLI, each change audited, and never removes the last admin", async () => {
    const url = await freshDatabase(server);
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = url;
    try {
      await runCli(["users", "add", "--email", "boss", "--role", "admin"], "a long enough password\n");
      await runCli(["users", "add", "--email", "ana", "--role", "dba"], "a long enough password\n");
      expect(await runCli(["users", "disable", "--email", "ana"])).toEqual({ code: 0, out: "disabled ana\n", err: "" });
      expect(await runCli(["users", "list"])).toMatchObject({
        code: 0,
        out: expect.stringMatching(/^ana\s+dba\s+disabled\b.*\nboss\s+admin\s+active\b/),
      });
      const listed = JSON.parse((await runCli(["users", "list", "--json"])).out);
      expect(listed).toEqual([
        { email: "ana", role: "dba", status: "disabled", createdAt: expect.any(String), disabledAt: expect.any(String) },
        { email: "boss", role: "admin", status: "active", createdAt: expect.any(String), disabledAt: null },
      ]);
      expect(await runCli(["users", "enable", "--email", "ana"])).toEqual({ code: 0, out: "enabled ana\n", err: "" });
      expect(await runCli(["users", "set-role", "--email", "ana", "--role", "sre"])).toEqual({ code: 0, out: "ana is now sre\n", err: "" });
      expect(await runCli(["users", "set-role", "--email", "boss", "--role", "dba"])).toMatchObject({
        code: 1,
        err: expect.stringContaining("boss is the last active admin"),
      });
      expect(await runCli(["users", "disable", "--email", "nobody"])).toMatchObject({
        code: 1,
        err: expect.stringContaining("no user named nobody"),
      });
      expect(await runCli(["users", "set-role", "--email", "ana", "--role", "root"])).toMatchObject({
        code: 2,
        err: expect.stringContaining("--role: role must be one of"),
      });
      expect(await runCli(["users", "disable"])).toMatchObject({ code: 2, err: expect.stringContaining("users disable needs --email") });
      const pool = new pg.Pool({ connectionString: url });
      const { rows } = await pool.query(
        "SELECT action, actor FROM audit_log WHERE action IN ('user.disable', 'user.enable', 'user.set_role') ORDER BY id",
      );
      expect(rows).toEqual([
        { action: "user.disable", actor: "cli" },
        { action: "user.enable", actor: "cli" },
        { action: "user.set_role", actor: "cli" },
      ]);
      await pool.end();
    } finally {
      process.env.DATABASE_URL = saved;
    }
  });
});
