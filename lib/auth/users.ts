import type pg from "pg";
import * as z from "zod";
import { appendAudit } from "../audit/log";
import { withTransaction } from "../store/pool";
import { hashPassword, needsRehash, verifyNobody, verifyPassword } from "./password";
import { ROLES, type Actor, type Role } from "./policy";

export const NewUser = z.object({
  email: z
    .string()
    .trim()
    .min(1, "email is required")
    .max(254, "email is longer than 254 characters")
    .regex(/^[^\s@]+(@[^\s@]+)?$/, "email must be a login name or an address without spaces"),
  role: z.enum(ROLES, { message: `role must be one of ${ROLES.join(", ")}` }),
  password: z.string().min(12, "password must be at least 12 characters").max(1024),
});

export class DuplicateUserError extends Error {}

/** Creates a user and its audit row in one transaction. `by` is who did it (null: the CLI / demo). */
export async function createUser(pool: pg.Pool, input: z.input<typeof NewUser>, by: Actor | null): Promise<Actor> {
  const user = NewUser.parse(input);
  const passwordHash = await hashPassword(user.password);
  try {
    return await withTransaction(pool, async (tx) => {
      const {
        rows: [row],
      } = await tx.query<{ id: number }>("INSERT INTO app_user (email, role, password_hash) VALUES ($1, $2, $3) RETURNING id", [
        user.email,
        user.role,
        passwordHash,
      ]);
      await appendAudit(tx, {
        actor: by?.email ?? "cli",
        role: by?.role ?? null,
        action: "user.create",
        details: { email: user.email, role: user.role },
      });
      return { id: row.id, email: user.email, role: user.role };
    });
  } catch (err) {
    if ((err as { code?: string }).code === "23505") throw new DuplicateUserError(`a user named ${user.email} already exists`);
    throw err;
  }
}

/** Failed attempts a minute for one login from one address (every address, when none is known). */
export const LOGIN_FAILURES_PER_MINUTE = 5;
/** Failed attempts a minute from one known address, over all logins: one address spraying many logins. */
export const LOGIN_FAILURES_PER_CLIENT = 20;
/** The tally (and audit) key shared by every login that doesn't exist, so made-up names can't add rows. */
const UNKNOWN_LOGINS = "*";
/** How long login attempts are kept: the limits look back a minute; the rest is a short trail. */
const KEEP_ATTEMPTS = "1 hour";

export type LoginResult = { ok: true; actor: Actor; sessionVersion: number } | { ok: false; reason: "invalid" | "throttled" };

interface LoginUser {
  id: number;
  role: Role;
  password_hash: string;
  session_version: number;
}

type Gate = { throttled: true } | { throttled: false; attemptId: number; user: LoginUser | undefined; standIn: string | undefined };

/**
 * Checks a password, from `client` (the caller's address, or null when it isn't known).
 *
 * The attempt is counted and recorded in one transaction, under a lock per login and per address, so
 * a parallel burst queues there and at most LOGIN_FAILURES_PER_MINUTE of its attempts (per login and
 * address) and LOGIN_FAILURES_PER_CLIENT (per address) reach the password check in a minute. An
 * attempt over a limit is refused without checking the password and without being recorded, so
 * refused attempts never extend the wait; the same login from another address is not affected.
 * Unknown and disabled logins are checked against a hash of nothing, at the same scrypt cost.
 * Failures reach the audit log at most once a minute per login (see tallyFailure).
 */
export async function authenticate(pool: pg.Pool, email: string, password: string, client: string | null = null): Promise<LoginResult> {
  const name = email.trim().slice(0, 254);
  const from = client ?? "";
  await pruneAttempts(pool);
  const gate = await withTransaction(pool, async (tx): Promise<Gate> => {
    // Always the login's lock before the address's, so two attempts can't each hold the other's.
    await tx.query("SELECT pg_advisory_xact_lock(hashtext('indexdeck.login'), hashtext($1))", [name]);
    if (from) await tx.query("SELECT pg_advisory_xact_lock(hashtext('indexdeck.login-client'), hashtext($1))", [from]);
    const {
      rows: [recent],
    } = await tx.query<{ login: number; client: number }>(
      `SELECT (SELECT count(*)::int
                 FROM login_attempt
                WHERE email = $1 AND client = $2 AND NOT succeeded AND at > now() - interval '1 minute') AS login,
              (SELECT count(*)::int
                 FROM login_attempt
                WHERE client = $2 AND $2 <> '' AND NOT succeeded AND at > now() - interval '1 minute') AS client`,
      [name, from],
    );
    const {
      rows: [user],
    } = await tx.query<LoginUser>(
      // Service users act only through API tokens: they sign in like a login that doesn't exist.
      "SELECT id, role, password_hash, session_version FROM app_user WHERE email = $1 AND disabled_at IS NULL AND NOT service",
      [name],
    );
    // The hash a login that doesn't exist is checked like: a real user's, the same one each time this
    // name is tried, so unknown names cost what the store's hashes cost (see verifyNobody).
    const {
      rows: [standIn],
    } = await tx.query<{ hash: string }>(
      "SELECT password_hash AS hash FROM app_user WHERE NOT service AND password_hash IS NOT NULL ORDER BY md5($1 || ':' || id) LIMIT 1",
      [name],
    );
    if (recent.login >= LOGIN_FAILURES_PER_MINUTE || recent.client >= LOGIN_FAILURES_PER_CLIENT) {
      await tallyFailure(tx, user ? name : UNKNOWN_LOGINS, name, "throttled");
      return { throttled: true };
    }
    // Recorded as a failure until the password proves right: attempts still being checked count too.
    const {
      rows: [attempt],
    } = await tx.query<{ id: number }>("INSERT INTO login_attempt (email, client, succeeded) VALUES ($1, $2, false) RETURNING id", [
      name,
      from,
    ]);
    return { throttled: false, attemptId: attempt.id, user, standIn: standIn?.hash };
  });
  if (gate.throttled) return { ok: false, reason: "throttled" };
  const { user } = gate;
  const ok = user ? await verifyPassword(password, user.password_hash) : await verifyNobody(password, gate.standIn);
  if (!ok || !user) {
    await withTransaction(pool, (tx) => tallyFailure(tx, user ? name : UNKNOWN_LOGINS, name, "invalid credentials"));
    return { ok: false, reason: "invalid" };
  }
  const rehashed = needsRehash(user.password_hash) ? await hashPassword(password) : null;
  await withTransaction(pool, async (tx) => {
    await tx.query("UPDATE login_attempt SET succeeded = true WHERE id = $1", [gate.attemptId]);
    // Only if nobody changed the password meanwhile.
    if (rehashed)
      await tx.query("UPDATE app_user SET password_hash = $2 WHERE id = $1 AND password_hash = $3", [
        user.id,
        rehashed,
        user.password_hash,
      ]);
    await appendAudit(tx, { actor: name, role: user.role, action: "login.success", details: {} });
  });
  return { ok: true, actor: { id: user.id, email: name, role: user.role }, sessionVersion: user.session_version };
}

/**
 * Counts a failed login towards its audit row: the first failure of a login in a minute writes a row
 * with how many failures it stands for (those since the previous row, this one included); the rest of
 * the minute only adds to the count. Logins that don't exist share one key, so at most one row a
 * minute per real user, plus one, whatever a flood tries.
 */
async function tallyFailure(tx: pg.ClientBase, key: string, name: string, reason: "invalid credentials" | "throttled"): Promise<void> {
  await tx.query("INSERT INTO login_failure_tally (login, audited_at) VALUES ($1, '-infinity') ON CONFLICT (login) DO NOTHING", [key]);
  const {
    rows: [tally],
  } = await tx.query<{ recent: boolean; unaudited: number }>(
    "SELECT audited_at > now() - interval '1 minute' AS recent, unaudited FROM login_failure_tally WHERE login = $1 FOR UPDATE",
    [key],
  );
  if (tally.recent) {
    await tx.query("UPDATE login_failure_tally SET unaudited = unaudited + 1 WHERE login = $1", [key]);
    return;
  }
  await tx.query("UPDATE login_failure_tally SET audited_at = now(), unaudited = 0 WHERE login = $1", [key]);
  const failures = tally.unaudited + 1;
  await appendAudit(
    tx,
    key === UNKNOWN_LOGINS
      ? { actor: null, role: null, action: "login.failure", details: { reason, failures, unknownLogin: name } }
      : { actor: name, role: null, action: "login.failure", details: { reason, failures } },
  );
}

const lastPrune = new WeakMap<pg.Pool, number>();

/** Deletes old attempts and tallies, at most once a minute per pool (the limits only look back a minute). */
async function pruneAttempts(pool: pg.Pool): Promise<void> {
  const now = Date.now();
  if (now - (lastPrune.get(pool) ?? 0) < 60_000) return;
  lastPrune.set(pool, now);
  await pool.query("DELETE FROM login_attempt WHERE at < now() - $1::interval", [KEEP_ATTEMPTS]);
  await pool.query("DELETE FROM login_failure_tally WHERE audited_at < now() - interval '1 day'");
}

export interface UserRow extends Actor {
  createdAt: Date;
  disabledAt: Date | null;
  /** A service user: no password, acts only through API tokens. */
  service: boolean;
}

/** Every user, disabled ones included (the Users page and `users list` show and re-enable them). */
export async function listUsers(db: Pick<pg.Pool, "query">): Promise<UserRow[]> {
  const { rows } = await db.query<UserRow>(
    `SELECT id,
            email,
            role,
            service,
            created_at  AS "createdAt",
            disabled_at AS "disabledAt"
       FROM app_user
      ORDER BY email`,
  );
  return rows;
}
