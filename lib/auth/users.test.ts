import { scryptSync, randomBytes } from "node:crypto";
import pg from "pg";
import { beforeEach, describe, expect, it } from "vitest";
import { freshDatabase, pgServers } from "../testing/db";
import { verifyAudit } from "../audit/verify";
import { authenticate, createUser, DuplicateUserError, LOGIN_FAILURES_PER_CLIENT, LOGIN_FAILURES_PER_MINUTE } from "./users";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** How long one failed login takes; it must have reached the password check (not been throttled). */
async function timedFailure(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  const result = await fn();
  const ms = performance.now() - start;
  expect(result).toEqual({ ok: false, reason: "invalid" });
  return ms;
}

describe.each(pgServers())("users and login on $name PostgreSQL", (server) => {
  let pool: pg.Pool;
  beforeEach(async () => {
    pool = new pg.Pool({ connectionString: await freshDatabase(server) });
    await createUser(pool, { email: "dba", role: "dba", password: "correct horse battery" }, null);
    return () => pool.end();
  });

  const loginAudit = async () =>
    (await pool.query("SELECT action, actor, details FROM audit_log WHERE action LIKE 'login.%' ORDER BY id")).rows;

  it("signs in with the right password and carries the role", async () => {
    const r = await authenticate(pool, "dba", "correct horse battery");
    expect(r).toMatchObject({ ok: true, actor: { email: "dba", role: "dba" }, sessionVersion: 1 });
  });

  it("stores a scrypt hash at one of OWASP's minimum settings (N=2^14, r=8, p=5), never the password", async () => {
    const {
      rows: [u],
    } = await pool.query("SELECT password_hash FROM app_user WHERE email = 'dba'");
    expect(u.password_hash).toMatch(/^scrypt\$16384\$8\$5\$/);
    expect(u.password_hash).not.toContain("correct horse");
  });

  // A cheaper setting than OWASP's, and the 128 MiB setting this app used before: both verify, and both
  // are replaced by today's at that sign-in.
  it.each([
    ["an older, cheaper cost", 2 ** 15, 1],
    ["the 128 MiB setting of before", 2 ** 17, 1],
  ])("re-hashes a password stored at %s when its owner signs in", async (_, N, p) => {
    const salt = randomBytes(16);
    const key = scryptSync("an older password", salt, 32, { N, r: 8, p, maxmem: 256 * 1024 * 1024 });
    await pool.query("UPDATE app_user SET password_hash = $1 WHERE email = 'dba'", [
      ["scrypt", N, 8, p, salt.toString("base64"), key.toString("base64")].join("$"),
    ]);
    expect(await authenticate(pool, "dba", "an older password")).toMatchObject({ ok: true });
    const {
      rows: [u],
    } = await pool.query("SELECT password_hash FROM app_user WHERE email = 'dba'");
    expect(u.password_hash).toMatch(/^scrypt\$16384\$8\$5\$/);
    expect(await authenticate(pool, "dba", "an older password")).toMatchObject({ ok: true });
  });

  it("gives the same answer for a wrong password and an unknown login", async () => {
    expect(await authenticate(pool, "dba", "wrong password!!")).toEqual({ ok: false, reason: "invalid" });
    expect(await authenticate(pool, "nobody", "wrong password!!")).toEqual({ ok: false, reason: "invalid" });
  });

  /** A wrong password's time for unknown logins over dba's, medians of `rounds` alternating tries. */
  async function unknownOverKnown(rounds: number): Promise<number> {
    const known: number[] = [];
    const unknown: number[] = [];
    // Alternating, each from its own address so no limit is reached; the first of each warms up.
    for (let i = 0; i < rounds; i++) {
      known.push(await timedFailure(() => authenticate(pool, "dba", "wrong password!!", `198.51.100.${i}`)));
      unknown.push(await timedFailure(() => authenticate(pool, `nobody${i}`, "wrong password!!", `203.0.113.${i}`)));
    }
    return median(unknown.slice(1)) / median(known.slice(1));
  }

  it("costs an unknown login the same scrypt as a known one (medians within noise)", async () => {
    const ratio = await unknownOverKnown(12);
    expect(ratio).toBeGreaterThan(0.7);
    expect(ratio).toBeLessThan(1.4);
  });

  it("costs an unknown login what the store's hashes cost, when they were made with the 128 MiB setting of before", async () => {
    // Every user's hash as it was before the parameters changed (each owner yet to sign in again).
    const salt = randomBytes(16);
    const key = scryptSync("an older password", salt, 32, { N: 2 ** 17, r: 8, p: 1, maxmem: 256 * 1024 * 1024 });
    await pool.query("UPDATE app_user SET password_hash = $1 WHERE NOT service", [
      ["scrypt", 2 ** 17, 8, 1, salt.toString("base64"), key.toString("base64")].join("$"),
    ]);
    const ratio = await unknownOverKnown(6);
    expect(ratio).toBeGreaterThan(0.7);
    expect(ratio).toBeLessThan(1.4);
  });

  it("lets at most the limit of a 200-request parallel burst reach the password check; the right password still works from another address", async () => {
    const burst = await Promise.all(Array.from({ length: 200 }, (_, i) => authenticate(pool, "dba", `guess-${i}-xxxxxxx`, "203.0.113.66")));
    const checked = burst.filter((r) => !r.ok && r.reason === "invalid").length;
    expect(checked).toBeGreaterThan(0);
    expect(checked).toBeLessThanOrEqual(LOGIN_FAILURES_PER_MINUTE);
    expect(burst.filter((r) => !r.ok && r.reason === "throttled")).toHaveLength(200 - checked);
    // Throttled attempts are not failures: they are not recorded, so they cannot extend the lock.
    const {
      rows: [{ n }],
    } = await pool.query("SELECT count(*)::int AS n FROM login_attempt WHERE email = 'dba'");
    expect(n).toBe(checked);
    expect(await authenticate(pool, "dba", "correct horse battery", "203.0.113.66")).toEqual({ ok: false, reason: "throttled" });
    expect(await authenticate(pool, "dba", "correct horse battery", "198.51.100.20")).toMatchObject({ ok: true, actor: { email: "dba" } });
    // The whole burst is one audit row (its first failure; the rest are counted towards the next).
    const failures = (await loginAudit()).filter((r) => r.action === "login.failure");
    expect(failures).toEqual([{ action: "login.failure", actor: "dba", details: { reason: expect.any(String), failures: 1 } }]);
    const {
      rows: [tally],
    } = await pool.query("SELECT unaudited FROM login_failure_tally WHERE login = 'dba'");
    expect(tally.unaudited).toBe(200);
    expect((await verifyAudit(pool)).ok).toBe(true);
  });

  it("limits one address across many logins, without locking anyone out elsewhere", async () => {
    const spray = await Promise.all(
      Array.from({ length: 40 }, (_, i) => authenticate(pool, `user${i}`, "wrong password!!", "203.0.113.77")),
    );
    expect(spray.filter((r) => !r.ok && r.reason === "invalid").length).toBeLessThanOrEqual(LOGIN_FAILURES_PER_CLIENT);
    expect(await authenticate(pool, "dba", "correct horse battery", "203.0.113.77")).toEqual({ ok: false, reason: "throttled" });
    expect(await authenticate(pool, "dba", "correct horse battery", "198.51.100.30")).toMatchObject({ ok: true });
    // Failures for logins that don't exist share one audit row a minute, whatever names are tried;
    // the refused attempt on dba is dba's own row.
    const failures = (await loginAudit()).filter((r) => r.action === "login.failure");
    expect(failures.map((r) => r.actor)).toEqual([null, "dba"]);
    expect(failures[0].details).toMatchObject({ failures: 1, unknownLogin: expect.stringMatching(/^user\d+$/) });
  });

  it("audits failures at most once a minute per login, with the count since the last row", async () => {
    for (let i = 0; i < LOGIN_FAILURES_PER_MINUTE; i++) await authenticate(pool, "dba", `guess-${i}-xxxxxxx`);
    expect(await authenticate(pool, "dba", "correct horse battery")).toEqual({ ok: false, reason: "throttled" });
    expect((await loginAudit()).map((r) => r.details)).toEqual([{ reason: "invalid credentials", failures: 1 }]);
    // A minute later (moved back rather than waited for) the next failure carries the ones in between.
    await pool.query("UPDATE login_attempt SET at = at - interval '2 minutes'");
    await pool.query("UPDATE login_failure_tally SET audited_at = audited_at - interval '2 minutes'");
    await authenticate(pool, "dba", "one more guess!!");
    expect((await loginAudit()).map((r) => r.details)).toEqual([
      { reason: "invalid credentials", failures: 1 },
      { reason: "invalid credentials", failures: LOGIN_FAILURES_PER_MINUTE + 1 },
    ]);
    expect((await verifyAudit(pool)).ok).toBe(true);
  });

  it("prunes login attempts older than an hour", async () => {
    await pool.query("INSERT INTO login_attempt (email, succeeded, at) VALUES ('dba', false, now() - interval '2 hours')");
    await authenticate(pool, "dba", "correct horse battery", "192.0.2.9");
    const {
      rows: [{ n }],
    } = await pool.query("SELECT count(*)::int AS n FROM login_attempt WHERE at < now() - interval '1 hour'");
    expect(n).toBe(0);
  });

  it("refuses a duplicate user and a bad role with a clear message", async () => {
    await expect(createUser(pool, { email: "dba", role: "dba", password: "another long pass" }, null)).rejects.toThrow(DuplicateUserError);
    await expect(createUser(pool, { email: "x", role: "root" as never, password: "another long pass" }, null)).rejects.toThrow(
      /role must be one of/,
    );
  });
});
