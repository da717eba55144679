import type pg from "pg";
import { z } from "zod";
import { appendAudit } from "../audit/log";
import { withTransaction } from "../store/pool";
import { hashPassword, verifyPassword } from "./password";
import { ROLES, type Actor, type Role } from "./policy";

export const NewUser = z.object({
  email: z.string().trim().min(1, "email is required").max(254, "email is longer than 254 characters")
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
      const { rows: [row] } = await tx.query<{ id: number }>(
        "INSERT INTO app_user (email, role, password_hash) VALUES ($1, $2, $3) RETURNING id",
        [user.email, user.role, passwordHash],
      );
      await appendAudit(tx, {
        actor: by?.email ?? "cli", role: by?.role ?? null, action: "user.create",
        details: { email: user.email, role: user.role },
      });
      return { id: row.id, email: user.email, role: user.role };
    });
  } catch (err) {
    if ((err as { code?: string }).code === "23505") throw new DuplicateUserError(`a user named ${user.email} already exists`);
    throw err;
  }
}

export const LOGIN_FAILURES_PER_MINUTE = 5;

export type LoginResult = { ok: true; actor: Actor } | { ok: false; reason: "invalid" | "throttled" };

/**
 * Checks a password. Failures and successes are both recorded and audited; after
 * LOGIN_FAILURES_PER_MINUTE failures for one account in a minute further attempts are refused
 * without looking at the password, whatever it is, until the minute has passed.
 */
export async function authenticate(pool: pg.Pool, email: string, password: string): Promise<LoginResult> {
  const name = email.trim().slice(0, 254);
  const { rows: [recent] } = await pool.query<{ failures: number }>(
    `SELECT count(*)::int AS failures
       FROM login_attempt
      WHERE email = $1 AND NOT succeeded AND at > now() - interval '1 minute'`,
    [name],
  );
  const throttled = recent.failures >= LOGIN_FAILURES_PER_MINUTE;
  const { rows: [user] } = await pool.query<{ id: number; role: Role; password_hash: string }>(
    "SELECT id, role, password_hash FROM app_user WHERE email = $1 AND disabled_at IS NULL",
    [name],
  );
  const ok = !throttled && !!user && (await verifyPassword(password, user.password_hash));
  await withTransaction(pool, async (tx) => {
    await tx.query("INSERT INTO login_attempt (email, succeeded) VALUES ($1, $2)", [name, ok]);
    await appendAudit(tx, {
      actor: name, role: ok ? user.role : null,
      action: ok ? "login.success" : "login.failure",
      details: ok ? {} : { reason: throttled ? "throttled" : "invalid credentials" },
    });
  });
  if (ok) return { ok: true, actor: { id: user.id, email: name, role: user.role } };
  return { ok: false, reason: throttled ? "throttled" : "invalid" };
}

export async function listUsers(db: Pick<pg.Pool, "query">): Promise<Array<Actor & { createdAt: Date }>> {
  const { rows } = await db.query<Actor & { createdAt: Date }>(
    `SELECT id, email, role, created_at AS "createdAt" FROM app_user WHERE disabled_at IS NULL ORDER BY email`,
  );
  return rows;
}
