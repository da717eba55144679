import pg from "pg";
import { beforeEach, describe, expect, it } from "vitest";
import { verifyAudit } from "../audit/verify";
import { freshDatabase, pgServers } from "../testing/db";
import { changeUser, UserChangeError } from "./manage";
import { authenticate, createUser, listUsers } from "./users";
import type { Actor } from "./policy";

describe.each(pgServers())("managing users on $name PostgreSQL", (server) => {
  let pool: pg.Pool;
  let admin: Actor;

  beforeEach(async () => {
    pool = new pg.Pool({ connectionString: await freshDatabase(server) });
    admin = await createUser(pool, { email: "root", role: "admin", password: "admin password long" }, null);
    await createUser(pool, { email: "dba", role: "dba", password: "correct horse battery" }, null);
    return () => pool.end();
  });

  const auditOf = async (action: string) =>
    (await pool.query("SELECT actor, role, details FROM audit_log WHERE action = $1 ORDER BY id", [action])).rows;

  it("disables and enables a user, each with its audit row; a disabled user cannot sign in and is listed as disabled", async () => {
    await changeUser(pool, "dba", { op: "disable" }, admin);
    expect(await authenticate(pool, "dba", "correct horse battery")).toEqual({ ok: false, reason: "invalid" });
    expect((await listUsers(pool)).find((u) => u.email === "dba")).toMatchObject({ role: "dba", disabledAt: expect.any(Date) });
    await changeUser(pool, "dba", { op: "enable" }, admin);
    expect(await authenticate(pool, "dba", "correct horse battery", "192.0.2.1")).toMatchObject({ ok: true });
    expect(await auditOf("user.disable")).toEqual([{ actor: "root", role: "admin", details: { email: "dba" } }]);
    expect(await auditOf("user.enable")).toEqual([{ actor: "root", role: "admin", details: { email: "dba" } }]);
    expect((await verifyAudit(pool)).ok).toBe(true);
  });

  it("changes a role and resets a password, audited without the password", async () => {
    await changeUser(pool, "dba", { op: "set-role", role: "sre" }, null);
    await changeUser(pool, "dba", { op: "reset-password", password: "the new long password" }, admin);
    expect(await authenticate(pool, "dba", "correct horse battery", "192.0.2.2")).toEqual({ ok: false, reason: "invalid" });
    expect(await authenticate(pool, "dba", "the new long password", "192.0.2.2")).toMatchObject({ ok: true, actor: { role: "sre" } });
    expect(await auditOf("user.set_role")).toEqual([{ actor: "cli", role: null, details: { email: "dba", from: "dba", to: "sre" } }]);
    const resets = await auditOf("user.password_reset");
    expect(resets).toEqual([{ actor: "root", role: "admin", details: { email: "dba" } }]);
    expect(JSON.stringify(resets)).not.toContain("the new long password");
  });

  it("refuses bad changes with a clear message and changes nothing", async () => {
    await expect(changeUser(pool, "nobody", { op: "disable" }, admin)).rejects.toThrow(/no user named nobody/);
    await expect(changeUser(pool, "dba", { op: "enable" }, admin)).rejects.toThrow(/dba is not disabled/);
    await expect(changeUser(pool, "dba", { op: "set-role", role: "dba" }, admin)).rejects.toThrow(/dba already has the role dba/);
    await expect(changeUser(pool, "dba", { op: "set-role", role: "root" as never }, admin)).rejects.toThrow(
      /role must be one of admin, dba, sre, manager, engineer/,
    );
    await expect(changeUser(pool, "dba", { op: "reset-password", password: "short" }, admin)).rejects.toThrow(/at least 12 characters/);
    expect(
      (await pool.query("SELECT count(*)::int AS n FROM audit_log WHERE action LIKE 'user.%' AND action <> 'user.create'")).rows[0].n,
    ).toBe(0);
  });

  it("never disables or demotes the last active admin, even when two admins remove each other at once", async () => {
    await expect(changeUser(pool, "root", { op: "disable" }, admin)).rejects.toThrow(/root is the last active admin/);
    await expect(changeUser(pool, "root", { op: "set-role", role: "dba" }, admin)).rejects.toThrow(UserChangeError);

    const second = await createUser(pool, { email: "root2", role: "admin", password: "admin password long" }, null);
    for (let round = 0; round < 5; round++) {
      const results = await Promise.allSettled([
        changeUser(pool, "root", { op: "disable" }, second),
        changeUser(pool, "root2", { op: round % 2 ? "disable" : "set-role", role: "dba" } as never, admin),
      ]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      expect(refused.reason).toBeInstanceOf(UserChangeError);
      expect((await pool.query("SELECT count(*)::int AS n FROM app_user WHERE role = 'admin' AND disabled_at IS NULL")).rows[0].n).toBe(1);
      // Put both admins back for the next round.
      await pool.query("UPDATE app_user SET role = 'admin', disabled_at = NULL WHERE email IN ('root', 'root2')");
    }
  });
});
