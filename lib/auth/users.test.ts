import pg from "pg";
import { beforeEach, describe, expect, it } from "vitest";
import { freshDatabase, pgServers } from "../testing/db";
import { verifyAudit } from "../audit/verify";
import { authenticate, createUser, DuplicateUserError, LOGIN_FAILURES_PER_MINUTE } from "./users";

describe.each(pgServers())("users and login on $name PostgreSQL", (server) => {
  let pool: pg.Pool;
  beforeEach(async () => {
    pool = new pg.Pool({ connectionString: await freshDatabase(server) });
    await createUser(pool, { email: "dba", role: "dba", password: "correct horse battery" }, null);
    return () => pool.end();
  });

  it("signs in with the right password and carries the role", async () => {
    const r = await authenticate(pool, "dba", "correct horse battery");
    expect(r).toMatchObject({ ok: true, actor: { email: "dba", role: "dba" } });
  });

  it("stores a scrypt hash, never the password", async () => {
    const { rows: [u] } = await pool.query("SELECT password_hash FROM app_user WHERE email = 'dba'");
    expect(u.password_hash).toMatch(/^scrypt\$/);
    expect(u.password_hash).not.toContain("correct horse");
  });

  it("gives the same answer for a wrong password and an unknown login", async () => {
    expect(await authenticate(pool, "dba", "wrong password!!")).toEqual({ ok: false, reason: "invalid" });
    expect(await authenticate(pool, "nobody", "wrong password!!")).toEqual({ ok: false, reason: "invalid" });
  });

  it("throttles an account after repeated failures, even for the right password, and audits every attempt", async () => {
    for (let i = 0; i < LOGIN_FAILURES_PER_MINUTE; i++) await authenticate(pool, "dba", `guess-${i}-xxxxxxx`);
    expect(await authenticate(pool, "dba", "correct horse battery")).toEqual({ ok: false, reason: "throttled" });
    const { rows } = await pool.query("SELECT action, details FROM audit_log WHERE action LIKE 'login.%' ORDER BY id");
    expect(rows).toHaveLength(LOGIN_FAILURES_PER_MINUTE + 1);
    expect(rows.at(-1).details).toEqual({ reason: "throttled" });
    expect((await verifyAudit(pool)).ok).toBe(true);
  });

  it("refuses a duplicate user and a bad role with a clear message", async () => {
    await expect(createUser(pool, { email: "dba", role: "dba", password: "another long pass" }, null)).rejects.toThrow(DuplicateUserError);
    await expect(createUser(pool, { email: "x", role: "root" as never, password: "another long pass" }, null)).rejects.toThrow(/role must be one of/);
  });
});
