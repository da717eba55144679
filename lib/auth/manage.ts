import type pg from "pg";
import * as z from "zod";
import { appendAudit } from "../audit/log";
import { withTransaction } from "../store/pool";
import { hashPassword } from "./password";
import type { Actor, Role } from "./policy";
import { sessionUsers, type SessionUsers } from "./sessions";
import { NewUser } from "./users";

/** The changes an admin (or the CLI) can make to a user; each is one transaction with its audit row. */
export const UserChange = z.discriminatedUnion("op", [
  z.object({ op: z.literal("disable") }),
  z.object({ op: z.literal("enable") }),
  z.object({ op: z.literal("set-role"), role: NewUser.shape.role }),
  z.object({ op: z.literal("reset-password"), password: NewUser.shape.password }),
  z.object({ op: z.literal("logout-everywhere") }),
]);
export type UserChange = z.infer<typeof UserChange>;

const AUDIT_ACTION: Record<UserChange["op"], string> = {
  disable: "user.disable",
  enable: "user.enable",
  "set-role": "user.set_role",
  "reset-password": "user.password_reset",
  "logout-everywhere": "user.logout_everywhere",
};

export class UserChangeError extends Error {
  constructor(
    readonly status: 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

interface Row {
  id: number;
  email: string;
  role: Role;
  disabled: boolean;
}

/**
 * Applies one change to the user `email`, with its audit row, in one transaction. Every change bumps
 * the user's session version, which ends all their sessions on every app server (this one at once,
 * the others within SESSION_CACHE_MS); for enabling, the bump is what tells a server that still
 * remembers the user disabled that a new sign-in is newer than its memory. The last active admin can't be disabled or
 * demoted: user changes queue on one lock, so two admins removing each other at once can't both pass.
 * `by` is who does it (null: the CLI).
 */
export async function changeUser(
  pool: pg.Pool,
  email: string,
  input: z.input<typeof UserChange>,
  by: Actor | null,
  sessions: SessionUsers = sessionUsers(pool),
): Promise<Actor> {
  const change = UserChange.parse(input);
  const passwordHash = change.op === "reset-password" ? await hashPassword(change.password) : null;
  const user = await withTransaction(pool, async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext('indexdeck.users'))");
    const {
      rows: [user],
    } = await tx.query<Row>("SELECT id, email, role, disabled_at IS NOT NULL AS disabled FROM app_user WHERE email = $1", [email]);
    if (!user) throw new UserChangeError(404, `no user named ${email}`);
    if (change.op === "disable" && user.disabled) throw new UserChangeError(409, `${email} is already disabled`);
    if (change.op === "enable" && !user.disabled) throw new UserChangeError(409, `${email} is not disabled`);
    if (change.op === "set-role" && user.role === change.role)
      throw new UserChangeError(409, `${email} already has the role ${change.role}`);
    const removesAdmin =
      user.role === "admin" && !user.disabled && (change.op === "disable" || (change.op === "set-role" && change.role !== "admin"));
    if (removesAdmin) {
      const {
        rows: [others],
      } = await tx.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM app_user WHERE role = 'admin' AND disabled_at IS NULL AND id <> $1",
        [user.id],
      );
      if (others.n === 0) throw new UserChangeError(409, `${email} is the last active admin: make another user admin first`);
    }
    await tx.query(
      `UPDATE app_user
          SET disabled_at     = CASE $2 WHEN 'disable' THEN now() WHEN 'enable' THEN NULL ELSE disabled_at END,
              role            = coalesce($3, role),
              password_hash   = coalesce($4, password_hash),
              session_version = session_version + 1
        WHERE id = $1`,
      [user.id, change.op, change.op === "set-role" ? change.role : null, passwordHash],
    );
    await appendAudit(tx, {
      actor: by?.email ?? "cli",
      role: by?.role ?? null,
      action: AUDIT_ACTION[change.op],
      details: change.op === "set-role" ? { email, from: user.role, to: change.role } : { email },
    });
    return user;
  });
  sessions.forget(user.id);
  return { id: user.id, email: user.email, role: change.op === "set-role" ? change.role : user.role };
}
