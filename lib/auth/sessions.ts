import type pg from "pg";
import type { Queryable } from "../store/pool";
import type { RefusalLog } from "../web/refusals";
import { isRole, type Actor, type Role } from "./policy";

/**
 * What a session cookie proves: who signed in (`uid`), under which of their session versions (`sv`)
 * and when (`signedInAt`, ms). Everything else — login, role, whether they may still act — is read
 * from the store on each request, so disabling, demoting or logging out takes effect on every server
 * within SESSION_CACHE_MS (invariant 10).
 */
export interface SessionClaims {
  uid: number;
  sv: number;
  signedInAt: number;
}

/** How long an app server trusts what it read of a user: the delay before a change reaches it. */
export const SESSION_CACHE_MS = 10_000;

const HOUR_MS = 60 * 60 * 1000;
// A sign-in time this far in the future is not a clock difference between servers but a forged one.
const CLOCK_SKEW_MS = 60_000;

/** The claims of a decoded token, or null when any is missing (cookies from before session versions). */
export function parseSessionClaims(token: Record<string, unknown> | null | undefined): SessionClaims | null {
  if (!token) return null;
  const { uid, sv, signedInAt } = token;
  if (!Number.isSafeInteger(uid) || !Number.isSafeInteger(sv) || typeof signedInAt !== "number" || !Number.isFinite(signedInAt))
    return null;
  return { uid: uid as number, sv: sv as number, signedInAt };
}

/** INDEXDECK_SESSION_HOURS (default 12): how long a session lasts from sign-in, however often it is used. */
export function sessionLifetimeMs(env: Record<string, string | undefined> = process.env): number {
  const raw = env.INDEXDECK_SESSION_HOURS;
  if (raw === undefined || raw === "") return 12 * HOUR_MS;
  const hours = Number(raw);
  if (!Number.isFinite(hours) || hours < 0.05 || hours > 720) {
    throw new Error(`INDEXDECK_SESSION_HOURS must be a number of hours from 0.05 to 720, got ${JSON.stringify(raw)}`);
  }
  return Math.round(hours * HOUR_MS);
}

interface SessionUser {
  id: number;
  email: string;
  role: Role | string;
  sessionVersion: number;
  disabled: boolean;
}

/**
 * The store's view of signed-in users, read at most once per `ttlMs` per user on this app server.
 * The server that changes a user forgets it at once (`forget`); the others follow within the TTL.
 */
export class SessionUsers {
  private readonly entries = new Map<number, { at: number; user: Promise<SessionUser | null> }>();
  readonly now: () => number;
  private readonly ttlMs: number;

  constructor(
    private readonly db: Queryable,
    options: { ttlMs?: number; now?: () => number } = {},
  ) {
    this.ttlMs = options.ttlMs ?? SESSION_CACHE_MS;
    this.now = options.now ?? Date.now;
  }

  get(uid: number): Promise<SessionUser | null> {
    const cached = this.entries.get(uid);
    if (cached && this.now() - cached.at < this.ttlMs) return cached.user;
    const user = this.read(uid);
    this.entries.set(uid, { at: this.now(), user });
    // A failed read is not remembered: the next request asks again.
    user.catch(() => this.entries.delete(uid));
    return user;
  }

  forget(uid: number): void {
    this.entries.delete(uid);
  }

  private async read(uid: number): Promise<SessionUser | null> {
    const {
      rows: [row],
    } = await this.db.query<SessionUser>(
      `SELECT id,
              email,
              role,
              session_version          AS "sessionVersion",
              disabled_at IS NOT NULL  AS disabled
         FROM app_user
        WHERE id = $1`,
      [uid],
    );
    return row ?? null;
  }
}

const shared = new WeakMap<pg.Pool, SessionUsers>();

/** This process's cache for a store pool: every request of the app server asks the same one. */
export function sessionUsers(pool: pg.Pool): SessionUsers {
  let users = shared.get(pool);
  if (!users) {
    users = new SessionUsers(pool);
    shared.set(pool, users);
  }
  return users;
}

/** What the audit log keeps of one use of a revoked session: why it no longer holds, and its version. */
export interface RevokedSessionUse {
  reason: "disabled" | "session-version";
  sessionVersion: number;
}

/**
 * The actor a session stands for right now, or null: the user is gone or disabled, the session's
 * version is not the user's (logged out everywhere, disabled, role or password changed since), or
 * its lifetime from sign-in is over. A revoked session used (disabled user, stale version) is a
 * security event: noted in `revoked`, which writes one audit row per user per window with the count.
 * An expired session just ends, as designed.
 */
export async function sessionActor(
  users: SessionUsers,
  claims: SessionClaims,
  lifetimeMs: number,
  revoked?: RefusalLog<RevokedSessionUse>,
): Promise<Actor | null> {
  const now = users.now();
  if (claims.signedInAt > now + CLOCK_SKEW_MS || now - claims.signedInAt >= lifetimeMs) return null;
  let user = await users.get(claims.uid);
  // A session newer than what this server remembers (signed in after an enable, a role change or a
  // reset) proves the memory stale: read again rather than refuse a valid session for the TTL.
  if (user && claims.sv > user.sessionVersion) {
    users.forget(claims.uid);
    user = await users.get(claims.uid);
  }
  if (user && (user.disabled || user.sessionVersion !== claims.sv)) {
    const reason = user.disabled ? "disabled" : "session-version";
    revoked?.note("revoked-session", { reason, sessionVersion: claims.sv }, new Date(now), {
      key: String(user.id),
      actor: user.email,
      role: user.role,
    });
    return null;
  }
  if (!user || !isRole(user.role)) return null;
  return { id: user.id, email: user.email, role: user.role };
}
