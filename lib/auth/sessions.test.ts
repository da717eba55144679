import pg from "pg";
import { beforeEach, describe, expect, it } from "vitest";
import { freshDatabase, pgServers } from "../testing/db";
import { changeUser } from "./manage";
import { createUser } from "./users";
import { verifyAudit } from "../audit/verify";
import { RefusalLog } from "../web/refusals";
import { parseSessionClaims, sessionActor, sessionLifetimeMs, SessionUsers, type RevokedSessionUse, type SessionClaims } from "./sessions";
import type { Actor } from "./policy";

const HOUR = 60 * 60 * 1000;

describe("session claims and lifetime", () => {
  it("refuses a cookie from before session versions (no sv or sign-in time), without throwing", () => {
    expect(parseSessionClaims({ uid: 1, email: "dba", role: "dba" })).toBeNull();
    expect(parseSessionClaims({ uid: 1, sv: 1 })).toBeNull();
    expect(parseSessionClaims({ uid: "1", sv: 1, signedInAt: 5 })).toBeNull();
    expect(parseSessionClaims(null)).toBeNull();
    expect(parseSessionClaims({ uid: 7, sv: 3, signedInAt: 1_700_000_000_000 })).toEqual({ uid: 7, sv: 3, signedInAt: 1_700_000_000_000 });
  });

  it("reads INDEXDECK_SESSION_HOURS, 12 by default, and names the setting when it is wrong", () => {
    expect(sessionLifetimeMs({})).toBe(12 * HOUR);
    expect(sessionLifetimeMs({ INDEXDECK_SESSION_HOURS: "8" })).toBe(8 * HOUR);
    expect(() => sessionLifetimeMs({ INDEXDECK_SESSION_HOURS: "forever" })).toThrow(
      /INDEXDECK_SESSION_HOURS must be a number of hours .* got "forever"/,
    );
    expect(() => sessionLifetimeMs({ INDEXDECK_SESSION_HOURS: "0" })).toThrow(/INDEXDECK_SESSION_HOURS/);
  });
});

describe.each(pgServers())("sessions follow the user on $name PostgreSQL", (server) => {
  let pool: pg.Pool;
  let admin: Actor;
  let dba: Actor;
  let clock: number;
  const now = () => clock;
  const claimsOf = (a: Actor, sv = 1, signedInAt = clock): SessionClaims => ({ uid: a.id, sv, signedInAt });

  beforeEach(async () => {
    pool = new pg.Pool({ connectionString: await freshDatabase(server) });
    admin = await createUser(pool, { email: "root", role: "admin", password: "admin password long" }, null);
    dba = await createUser(pool, { email: "dba", role: "dba", password: "correct horse battery" }, null);
    clock = Date.now();
    return () => pool.end();
  });

  it("takes the role and login from the store, not from the cookie", async () => {
    const users = new SessionUsers(pool, { ttlMs: 10_000, now });
    expect(await sessionActor(users, claimsOf(dba), 12 * HOUR)).toEqual({ id: dba.id, email: "dba", role: "dba" });
    // A change made behind the app's back (no version bump) shows once the cached entry is older than its TTL.
    await pool.query("UPDATE app_user SET role = 'engineer' WHERE id = $1", [dba.id]);
    clock += 10_001;
    expect(await sessionActor(users, claimsOf(dba), 12 * HOUR)).toMatchObject({ role: "engineer" });
  });

  it("ends every session of a disabled, demoted or logged-out-everywhere user, on every app server within the cache TTL", async () => {
    const here = new SessionUsers(pool, { ttlMs: 10_000, now });
    const there = new SessionUsers(pool, { ttlMs: 10_000, now });
    const session = claimsOf(dba);
    expect(await sessionActor(here, session, 12 * HOUR)).not.toBeNull();
    expect(await sessionActor(there, session, 12 * HOUR)).not.toBeNull();

    await changeUser(pool, "dba", { op: "disable" }, admin, here);
    expect(await sessionActor(here, session, 12 * HOUR)).toBeNull(); // the server that made the change: at once
    clock += 10_001;
    expect(await sessionActor(there, session, 12 * HOUR)).toBeNull(); // another server: after its TTL

    // Enabling again does not bring old sessions back: the version moved on.
    await changeUser(pool, "dba", { op: "enable" }, admin, here);
    expect(await sessionActor(here, session, 12 * HOUR)).toBeNull();
    const {
      rows: [{ v }],
    } = await pool.query("SELECT session_version AS v FROM app_user WHERE id = $1", [dba.id]);
    const fresh = claimsOf(dba, v);
    expect(await sessionActor(here, fresh, 12 * HOUR)).not.toBeNull();

    await changeUser(pool, "dba", { op: "set-role", role: "engineer" }, admin, here);
    expect(await sessionActor(here, fresh, 12 * HOUR)).toBeNull();
    const next = claimsOf(dba, v + 1);
    expect(await sessionActor(here, next, 12 * HOUR)).toMatchObject({ role: "engineer" });

    await changeUser(pool, "dba", { op: "logout-everywhere" }, { id: dba.id, email: "dba", role: "engineer" }, here);
    expect(await sessionActor(here, next, 12 * HOUR)).toBeNull();

    await changeUser(pool, "dba", { op: "reset-password", password: "a brand new password" }, admin, here);
    expect(await sessionActor(here, claimsOf(dba, v + 2), 12 * HOUR)).toBeNull();
    expect(await sessionActor(here, claimsOf(dba, v + 3), 12 * HOUR)).not.toBeNull();
  });

  it("lets a user enabled again sign in at once on a server that still remembers them disabled", async () => {
    const here = new SessionUsers(pool, { ttlMs: 10_000, now });
    const there = new SessionUsers(pool, { ttlMs: 10_000, now });
    await changeUser(pool, "dba", { op: "disable" }, admin, here);
    expect(await sessionActor(there, claimsOf(dba, 2), 12 * HOUR)).toBeNull(); // `there` now caches "disabled"
    await changeUser(pool, "dba", { op: "enable" }, admin, here);
    const {
      rows: [{ v }],
    } = await pool.query("SELECT session_version AS v FROM app_user WHERE id = $1", [dba.id]);
    // A session newer than what a server remembers makes it read again, without waiting for the TTL.
    expect(await sessionActor(there, claimsOf(dba, v), 12 * HOUR)).toMatchObject({ email: "dba", role: "dba" });
  });

  it("ends a session its absolute lifetime after sign-in, however often it was refreshed", async () => {
    const users = new SessionUsers(pool, { ttlMs: 10_000, now });
    const signedIn = clock;
    expect(await sessionActor(users, claimsOf(dba, 1, signedIn), 2 * HOUR)).not.toBeNull();
    clock = signedIn + 2 * HOUR - 1;
    expect(await sessionActor(users, claimsOf(dba, 1, signedIn), 2 * HOUR)).not.toBeNull();
    clock = signedIn + 2 * HOUR;
    expect(await sessionActor(users, claimsOf(dba, 1, signedIn), 2 * HOUR)).toBeNull();
    // A sign-in time in the future is not a way around it.
    expect(await sessionActor(users, claimsOf(dba, 1, clock + HOUR), 2 * HOUR)).toBeNull();
  });

  it("refuses a session of a user that no longer exists or never did", async () => {
    const users = new SessionUsers(pool, { ttlMs: 10_000, now });
    expect(await sessionActor(users, { uid: 999_999, sv: 1, signedInAt: clock }, 12 * HOUR)).toBeNull();
  });
});

describe.each(pgServers())("a revoked session used, in the audit log on $name PostgreSQL", (server) => {
  let pool: pg.Pool;
  beforeEach(async () => {
    pool = new pg.Pool({ connectionString: await freshDatabase(server) });
    return () => pool.end();
  });

  const revokedRows = async () =>
    (await pool.query("SELECT actor, role, action, details FROM audit_log WHERE action = 'request.refused.revoked-session' ORDER BY id"))
      .rows;

  // A cookie that outlived its session is a security event (issue 16, "Bad input"), but a browser or a
  // script holding one may retry every second: one row per user per window, with the count, not a row
  // per request, so it can't grow the chain or hold its lock.
  it("writes one row per user per window with the count and why, for a stale session version or a disabled user", async () => {
    const admin = await createUser(pool, { email: "root", role: "admin", password: "admin password long" }, null);
    const dba = await createUser(pool, { email: "dba", role: "dba", password: "correct horse battery" }, null);
    const sre = await createUser(pool, { email: "sre", role: "sre", password: "correct horse battery" }, null);
    const users = new SessionUsers(pool, { ttlMs: 0 });
    const revoked = new RefusalLog<RevokedSessionUse>(() => pool, 60_000);
    const old = (a: Actor): SessionClaims => ({ uid: a.id, sv: 1, signedInAt: Date.now() });

    expect(await sessionActor(users, old(dba), 12 * HOUR, revoked)).not.toBeNull();
    await changeUser(pool, "dba", { op: "disable" }, admin, users);
    await changeUser(pool, "sre", { op: "logout-everywhere" }, sre, users);
    for (let i = 0; i < 30; i++) expect(await sessionActor(users, old(dba), 12 * HOUR, revoked)).toBeNull();
    for (let i = 0; i < 3; i++) expect(await sessionActor(users, old(sre), 12 * HOUR, revoked)).toBeNull();
    // An expired session is not a revoked one: it ends as designed and writes nothing.
    expect(await sessionActor(users, { uid: admin.id, sv: 1, signedInAt: Date.now() - 13 * HOUR }, 12 * HOUR, revoked)).toBeNull();
    expect(await revokedRows()).toEqual([]); // nothing per request
    await revoked.flush();

    const rows = await revokedRows();
    expect(rows.map((r) => [r.actor, r.role, r.details.count])).toEqual([
      ["dba", "dba", 30],
      ["sre", "sre", 3],
    ]);
    expect(rows[0].details.samples[0]).toEqual({ reason: "disabled", sessionVersion: 1 });
    expect(rows[1].details.samples[0]).toEqual({ reason: "session-version", sessionVersion: 1 });
    expect(rows[0].details.samples).toHaveLength(5);
    expect((await verifyAudit(pool)).ok).toBe(true);
  });
});
