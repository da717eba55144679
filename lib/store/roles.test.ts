import pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { appendAudit } from "../audit/log";
import { verifyAudit } from "../audit/verify";
import { SessionUsers } from "../auth/sessions";
import { ApiTokens, createServiceUser, createToken, revokeToken, tokenActor } from "../auth/tokens";
import { createUser } from "../auth/users";
import { quoteIdent } from "../sql/quote";
import { freshDatabase, freshRole, pgServers, type PgServer } from "../testing/db";
import { migrateStore } from "./roles";
import { withTransaction } from "./pool";

async function asAdmin(server: PgServer, sql: string) {
  const c = new pg.Client({ connectionString: server.adminUrl });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

// Invariant 12: the app's own role can append audit rows and read them, nothing else. The store is
// migrated by an owner role (not a superuser), and the runtime role gets exactly its rights.
describe.each(pgServers())("the store's two roles on $name PostgreSQL", (server) => {
  let runtimeUrl: string;
  let runtime: pg.Pool;

  beforeAll(async () => {
    const db = await freshDatabase(server, "empty");
    const owner = await freshRole(server);
    const app = await freshRole(server);
    await asAdmin(server, `ALTER DATABASE ${quoteIdent(new URL(db).pathname.slice(1))} OWNER TO ${quoteIdent(owner.name)}`);
    runtimeUrl = app.url(db);
    const first = await migrateStore({ owner: owner.url(db), runtime: runtimeUrl });
    expect(first.separated).toBe(true);
    expect(first.applied.length).toBeGreaterThan(10);
    // A second start migrates nothing and grants the same again.
    expect(await migrateStore({ owner: owner.url(db), runtime: runtimeUrl })).toEqual({ applied: [], separated: true });
    // App servers starting together grant at the same time: none of them may fail for it.
    const together = await Promise.allSettled(Array.from({ length: 6 }, () => migrateStore({ owner: owner.url(db), runtime: runtimeUrl })));
    expect(together.filter((r) => r.status === "rejected").map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
    runtime = new pg.Pool({ connectionString: runtimeUrl });
    return () => runtime.end();
  });

  it("lets the runtime role do the app's work: record changes with their audit rows, and verify the chain", async () => {
    await createUser(runtime, { email: "someone@example.com", role: "dba", password: "a long enough password" }, null);
    await withTransaction(runtime, (tx) => appendAudit(tx, { actor: "dba", role: "dba", action: "test.event" }));
    expect(await verifyAudit(runtime)).toMatchObject({ ok: true, rows: 2, signaturesChecked: true });
  });

  it("lets the runtime role create, use and revoke API tokens and service users", async () => {
    const admin = await createUser(runtime, { email: "token-admin", role: "admin", password: "a long enough password" }, null);
    await createServiceUser(runtime, { email: "ci-bot", role: "sre" }, admin);
    const { token, secret } = await createToken(runtime, "ci-bot", { name: "ci", role: "sre", days: 1 }, admin);
    const tokens = new ApiTokens(runtime, new SessionUsers(runtime));
    expect(await tokenActor(tokens, secret)).toMatchObject({ email: "ci-bot", role: "sre" });
    await revokeToken(runtime, token.id, admin, tokens);
    expect(await tokenActor(new ApiTokens(runtime, new SessionUsers(runtime)), secret)).toBeNull();
  });

  it.each([
    ["UPDATE audit_log", "UPDATE audit_log SET actor = 'mallory'", "permission denied"],
    ["DELETE FROM audit_log", "DELETE FROM audit_log", "permission denied"],
    ["TRUNCATE audit_log", "TRUNCATE audit_log", "permission denied"],
    [
      "INSERT INTO audit_log (skipping the link)",
      "INSERT INTO audit_log (id, at, action, prev_hash, hash, scheme) VALUES (999, now(), 'x', repeat('0', 64), repeat('1', 64), 1)",
      "permission denied",
    ],
    ["ALTER TABLE … DISABLE TRIGGER", "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete", "must be owner"],
    ["ALTER TABLE … DISABLE TRIGGER ALL", "ALTER TABLE audit_log DISABLE TRIGGER ALL", "must be owner"],
    ["DROP TRIGGER", "DROP TRIGGER audit_log_no_truncate ON audit_log", "must be owner"],
    ["disable the link trigger", "ALTER TABLE audit_pending DISABLE TRIGGER audit_pending_link", "must be owner"],
    [
      "replace the link function",
      "CREATE OR REPLACE FUNCTION audit_link_pending() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$",
      "permission denied for schema public",
    ],
    ["move the chain's sequence", "SELECT setval('audit_log_id_seq', 1)", "permission denied"],
    ["read or clear pending rows", "DELETE FROM audit_pending", "permission denied"],
    ["rewrite the migrations' record", "UPDATE schema_migration SET checksum = 'x'", "permission denied"],
    ["create objects in the schema", "CREATE TABLE public.shadow (x int)", "permission denied"],
  ])("refuses the runtime role: %s", async (_what, sql, message) => {
    const err = await runtime.query(sql).then(
      () => null,
      (e: Error & { code?: string }) => e,
    );
    expect(err?.message).toContain(message);
    expect(err?.code).toBe("42501"); // insufficient_privilege
  });
});

describe.each(pgServers())("one role for both on $name PostgreSQL", (server) => {
  it("says the store is not separated when DATABASE_OWNER_URL is not given", async () => {
    const db = await freshDatabase(server, "empty");
    expect(await migrateStore({ runtime: db })).toMatchObject({ separated: false });
  });
});
