import { createHash, randomBytes } from "node:crypto";
import type pg from "pg";
import * as z from "zod";
import { appendAudit } from "../audit/log";
import { withTransaction, type Queryable } from "../store/pool";
import { can, ForbiddenError, isRole, lowerRole, roleAtMost, ROLES, type Actor, type Role } from "./policy";
import { SESSION_CACHE_MS, sessionUsers, type SessionUsers } from "./sessions";
import { NewUser } from "./users";

/**
 * API tokens: what scripts and CI send as `Authorization: Bearer …` instead of a session. A token acts
 * as its owner, with the lesser of its own role and the owner's current one, only on its targets
 * when it has any, until it expires or is revoked; revocation and the owner's disabling or demotion
 * reach every app server within SESSION_CACHE_MS, as they do for sessions (invariant 10).
 */

/** Every secret starts with this, so a leaked one is recognisable (secret scanners, logs). */
export const TOKEN_PREFIX = "idt_";
/** The longest a token may live: a forgotten token expires on its own. */
export const MAX_TOKEN_DAYS = 365;

export const NewToken = z.object({
  name: z.string().trim().min(1, "name is required").max(100, "name is longer than 100 characters"),
  role: z.enum(ROLES, { message: `role must be one of ${ROLES.join(", ")}` }),
  days: z.coerce
    .number({ message: "days must be a number" })
    .int("days must be a whole number")
    .min(1, "days must be at least 1")
    .max(MAX_TOKEN_DAYS, `days must be at most ${MAX_TOKEN_DAYS}`),
  targets: z
    .array(z.string().trim().min(1, "a target id is empty").max(63, "a target id is longer than 63 characters"))
    .max(100, "at most 100 targets")
    .optional()
    .transform((t) => (t && t.length ? [...new Set(t)] : null)),
});
export type NewToken = z.input<typeof NewToken>;

export class TokenError extends Error {
  constructor(
    readonly status: 404 | 409 | 422,
    message: string,
  ) {
    super(message);
  }
}

/** SHA-256 is enough here: the secret is 256 random bits, not a password someone could guess. */
export function secretDigest(secret: string): Buffer {
  return createHash("sha256").update(secret, "utf8").digest();
}

export interface TokenRow {
  id: number;
  owner: string;
  name: string;
  role: Role;
  targets: string[] | null;
  createdBy: string;
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  /** Past its expiry, by the store's clock. */
  expired: boolean;
}

/** Who `by` is, as the audit log names them: "cli" when the CLI acts. */
function auditedBy(by: Actor | null): { actor: string; role: Role | null } {
  return { actor: by?.email ?? "cli", role: by?.role ?? null };
}

/**
 * Creates a token for `ownerEmail` and returns its secret, which is never stored or shown again.
 * A person creates tokens for themselves; an admin (or the CLI, `by` null) also for service users.
 * The token's role may not exceed the owner's, nor the creator's. With `knownTargets` (the configured
 * target ids), a scope naming another is refused rather than stored as a token that can do nothing.
 */
export async function createToken(
  pool: pg.Pool,
  ownerEmail: string,
  input: NewToken,
  by: Actor | null,
  knownTargets?: string[],
): Promise<{ token: TokenRow; secret: string }> {
  const t = NewToken.parse(input);
  if (by?.via) throw new ForbiddenError("a token cannot create tokens: sign in to create one");
  const unknown = knownTargets ? (t.targets ?? []).filter((id) => !knownTargets.includes(id)) : [];
  if (unknown.length)
    throw new TokenError(
      422,
      `targets: ${unknown.join(", ")} ${unknown.length > 1 ? "are not configured targets" : "is not a configured target"}`,
    );
  const secret = TOKEN_PREFIX + randomBytes(32).toString("base64url");
  return withTransaction(pool, async (tx) => {
    const {
      rows: [owner],
    } = await tx.query<{ id: number; email: string; role: Role; service: boolean; disabled: boolean }>(
      "SELECT id, email, role, service, disabled_at IS NOT NULL AS disabled FROM app_user WHERE email = $1 FOR SHARE",
      [ownerEmail],
    );
    if (!owner) throw new TokenError(404, `no user named ${ownerEmail}`);
    if (by && owner.id !== by.id && !(owner.service && can(by.role, "users:manage"))) {
      throw new ForbiddenError(
        `${by.email} may create tokens only for themselves${can(by.role, "users:manage") ? " and service users" : ""}, not for ${owner.email}`,
      );
    }
    if (owner.disabled) throw new TokenError(409, `${owner.email} is disabled`);
    if (!roleAtMost(t.role, owner.role)) throw new TokenError(422, `role ${t.role} is higher than ${owner.email}'s role ${owner.role}`);
    if (by && !roleAtMost(t.role, by.role)) throw new TokenError(422, `role ${t.role} is higher than your role ${by.role}`);
    const {
      rows: [row],
    } = await tx.query<{ id: number }>(
      `INSERT INTO api_token (user_id, name, role, targets, secret_sha256, created_by, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(days => $7))
       RETURNING id`,
      [owner.id, t.name, t.role, t.targets, secretDigest(secret), by?.email ?? "cli", t.days],
    );
    await appendAudit(tx, {
      ...auditedBy(by),
      action: "token.create",
      details: { token: row.id, owner: owner.email, name: t.name, role: t.role, targets: t.targets, days: t.days },
    });
    const token = (await listTokens(tx, { id: row.id }))[0];
    return { token, secret };
  });
}

/** Tokens, newest first, without their secrets: one owner's, one token, or all (for admins and the CLI). */
export async function listTokens(db: Queryable, filter: { owner?: string; id?: number } = {}): Promise<TokenRow[]> {
  const { rows } = await db.query<TokenRow>(
    `SELECT t.id,
            u.email        AS owner,
            t.name,
            t.role,
            t.targets,
            t.created_by   AS "createdBy",
            t.created_at   AS "createdAt",
            t.expires_at   AS "expiresAt",
            t.revoked_at   AS "revokedAt",
            t.last_used_at AS "lastUsedAt",
            t.expires_at <= now() AS expired
       FROM api_token t
       JOIN app_user u ON u.id = t.user_id
      WHERE ($1::text IS NULL OR u.email = $1)
        AND ($2::bigint IS NULL OR t.id = $2)
      ORDER BY t.id DESC`,
    [filter.owner ?? null, filter.id ?? null],
  );
  return rows;
}

/**
 * Revokes a token, with its audit row: its owner may, and an admin (or the CLI) may revoke any.
 * This server forgets it at once; the others within SESSION_CACHE_MS.
 */
export async function revokeToken(pool: pg.Pool, id: number, by: Actor | null, tokens: ApiTokens = apiTokens(pool)): Promise<TokenRow> {
  const revoked = await withTransaction(pool, async (tx) => {
    const [token] = await listTokens(tx, { id });
    if (!token) throw new TokenError(404, `no token ${id}`);
    if (by && token.owner !== by.email && !can(by.role, "users:manage"))
      throw new ForbiddenError(`token ${id} belongs to ${token.owner}: only they or an admin may revoke it`);
    const { rowCount } = await tx.query("UPDATE api_token SET revoked_at = now(), revoked_by = $2 WHERE id = $1 AND revoked_at IS NULL", [
      id,
      by?.email ?? "cli",
    ]);
    if (!rowCount) throw new TokenError(409, `token ${id} is already revoked`);
    await appendAudit(tx, { ...auditedBy(by), action: "token.revoke", details: { token: id, owner: token.owner, name: token.name } });
    return token;
  });
  tokens.forgetToken(id);
  return revoked;
}

/** Creates a service user: an account for scripts that acts only through tokens (admins and the CLI). */
export async function createServiceUser(pool: pg.Pool, input: { email: string; role: Role }, by: Actor | null): Promise<Actor> {
  const user = NewUser.pick({ email: true, role: true }).parse(input);
  if (by && !can(by.role, "users:manage")) throw new ForbiddenError(`role ${by.role} may not create service users`);
  try {
    return await withTransaction(pool, async (tx) => {
      // No password hashes to "!": sign-in skips service users before it gets that far anyway.
      const {
        rows: [row],
      } = await tx.query<{ id: number }>(
        "INSERT INTO app_user (email, role, password_hash, service) VALUES ($1, $2, '!', true) RETURNING id",
        [user.email, user.role],
      );
      await appendAudit(tx, { ...auditedBy(by), action: "user.create", details: { email: user.email, role: user.role, service: true } });
      return { id: row.id, email: user.email, role: user.role };
    });
  } catch (err) {
    if ((err as { code?: string }).code === "23505") throw new TokenError(409, `a user named ${user.email} already exists`);
    throw err;
  }
}

interface CachedToken {
  id: number;
  userId: number;
  role: string;
  targets: string[] | null;
  expiresAt: Date;
  revoked: boolean;
}

/**
 * What this app server knows of tokens, read at most once per `ttlMs` per token (each read also
 * stamps last_used_at, so that costs one write per token per TTL, not per call). Owners are read
 * through the sessions' cache of users, so a disabled or demoted owner counts as at once as for
 * their sessions.
 */
export class ApiTokens {
  private readonly entries = new Map<string, { at: number; token: Promise<CachedToken | null> }>();
  private readonly ttlMs: number;

  constructor(
    private readonly db: Queryable,
    readonly users: SessionUsers,
    options: { ttlMs?: number } = {},
  ) {
    this.ttlMs = options.ttlMs ?? SESSION_CACHE_MS;
  }

  get now(): () => number {
    return this.users.now;
  }

  get(secret: string): Promise<CachedToken | null> {
    const key = secretDigest(secret).toString("hex");
    const cached = this.entries.get(key);
    if (cached && this.now() - cached.at < this.ttlMs) return cached.token;
    const token = this.read(key);
    this.entries.set(key, { at: this.now(), token });
    token.catch(() => this.entries.delete(key));
    return token;
  }

  forgetToken(id: number): void {
    for (const [key, entry] of this.entries)
      void entry.token.then(
        (t) => t?.id === id && this.entries.delete(key),
        () => undefined,
      );
  }

  private async read(digestHex: string): Promise<CachedToken | null> {
    const {
      rows: [row],
    } = await this.db.query<CachedToken>(
      `UPDATE api_token
          SET last_used_at = now()
        WHERE secret_sha256 = decode($1, 'hex')
        RETURNING id,
                  user_id               AS "userId",
                  role,
                  targets,
                  expires_at            AS "expiresAt",
                  revoked_at IS NOT NULL AS revoked`,
      [digestHex],
    );
    return row ?? null;
  }
}

const shared = new WeakMap<pg.Pool, ApiTokens>();

/** This process's token cache for a store pool, sharing the sessions' cache of users. */
export function apiTokens(pool: pg.Pool): ApiTokens {
  let tokens = shared.get(pool);
  if (!tokens) {
    tokens = new ApiTokens(pool, sessionUsers(pool));
    shared.set(pool, tokens);
  }
  return tokens;
}

/** The secret of an `Authorization: Bearer …` header, or null when the header is not one. */
export function bearerSecret(header: string): string | null {
  const [scheme, secret, extra] = header.trim().split(/\s+/);
  if (scheme?.toLowerCase() !== "bearer" || !secret || extra !== undefined || !secret.startsWith(TOKEN_PREFIX)) return null;
  return secret;
}

/** Why a token was refused, and which token it was when the secret named one. */
export type TokenVerdict = { actor: Actor } | { refused: "unknown" | "revoked" | "expired" | "owner disabled"; tokenId: number | null };

/**
 * The actor a token stands for right now, or why not: unknown, revoked, expired, or its owner gone
 * or disabled. Its role is the lesser of the token's and the owner's current one.
 */
export async function tokenVerdict(tokens: ApiTokens, secret: string): Promise<TokenVerdict> {
  const token = await tokens.get(secret);
  if (!token || !isRole(token.role)) return { refused: "unknown", tokenId: null };
  if (token.revoked) return { refused: "revoked", tokenId: token.id };
  if (token.expiresAt.getTime() <= tokens.now()) return { refused: "expired", tokenId: token.id };
  const owner = await tokens.users.get(token.userId);
  if (!owner || owner.disabled || !isRole(owner.role)) return { refused: "owner disabled", tokenId: token.id };
  return {
    actor: {
      id: owner.id,
      email: owner.email,
      role: lowerRole(token.role, owner.role),
      via: { tokenId: token.id, targets: token.targets },
    },
  };
}

/** The actor a token stands for right now, or null (see tokenVerdict). */
export async function tokenActor(tokens: ApiTokens, secret: string): Promise<Actor | null> {
  const verdict = await tokenVerdict(tokens, secret);
  return "actor" in verdict ? verdict.actor : null;
}
