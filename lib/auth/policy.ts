/**
 * auth/ — who people are (users, sessions, API tokens, passwords) and what each role may do.
 *
 * The one place that decides what each role may do. Pages, server actions, route handlers and the
 * CLI all ask `can` / `authorize`; hiding a button is only a convenience on top of this.
 */
export const ROLES = ["admin", "dba", "sre", "manager", "engineer"] as const;
export type Role = (typeof ROLES)[number];

export const ACTIONS = [
  "rollouts:read",
  "changesets:read",
  "indexes:read",
  "targets:read",
  "audit:read",
  "audit:export",
  "signoffs:read",
  "changeset:create",
  "rollout:create",
  "rollout:approve",
  "rollout:run",
  "rollout:rollback",
  "rollout:signoff",
  "users:manage",
  "policy:manage",
  // Webhooks' delivery attempts: which receivers are told what, and how that goes.
  "webhooks:read",
  "window:override",
  "promotion:waive",
  "searchpath:waive",
  // The query text of other sessions on a production target (a rollout's blockers): it can carry
  // personal data or passwords, so it is for the people who operate the target.
  "sessions:query-text",
] as const;
export type Action = (typeof ACTIONS)[number];

const READ_ALL: Action[] = ["rollouts:read", "changesets:read", "indexes:read", "targets:read"];
const GOVERNANCE_READ: Action[] = ["audit:read", "audit:export", "signoffs:read"];
const OPERATE: Action[] = [
  "changeset:create",
  "rollout:create",
  "rollout:approve",
  "rollout:run",
  "rollout:rollback",
  "rollout:signoff",
  "sessions:query-text",
];

const GRANTS: Record<Role, ReadonlySet<Action>> = {
  engineer: new Set(READ_ALL),
  manager: new Set([...READ_ALL, ...GOVERNANCE_READ]),
  // Overriding a maintenance window is a dba's call (and an admin's); an sre operates inside windows.
  dba: new Set([...READ_ALL, ...GOVERNANCE_READ, ...OPERATE, "window:override"]),
  sre: new Set([...READ_ALL, ...GOVERNANCE_READ, ...OPERATE]),
  admin: new Set([
    ...READ_ALL,
    ...GOVERNANCE_READ,
    ...OPERATE,
    "users:manage",
    "policy:manage",
    "webhooks:read",
    "window:override",
    "promotion:waive",
    "searchpath:waive",
  ]),
};

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

export function can(role: Role | null | undefined, action: Action): boolean {
  return !!role && GRANTS[role].has(action);
}

/**
 * The one "you may not": a role without the permission, four eyes, another person's token, a token
 * limited to other targets. Whatever refuses a person for who they are throws this (or a kind of it),
 * and the web layer maps it to 403 in one place (app/lib/http.ts refusalOf).
 */
export class ForbiddenError extends Error {
  readonly status = 403;
}

export class UnauthenticatedError extends Error {
  readonly status = 401;
  constructor() {
    super("sign in first");
  }
}

export interface Actor {
  id: number;
  email: string;
  role: Role;
  /** Set when the request came with an API token (lib/auth/tokens.ts): which, and the targets it is limited to. */
  via?: { tokenId: number; targets: string[] | null };
}

/**
 * Whether `role` may do no more than `limit`: its grants are a subset of limit's. The roles nest
 * (engineer ⊂ manager ⊂ sre ⊂ dba ⊂ admin, checked in policy.test.ts), so this is an order.
 */
export function roleAtMost(role: Role, limit: Role): boolean {
  return [...GRANTS[role]].every((a) => GRANTS[limit].has(a));
}

/** The lesser of two roles: what a token may do is capped by its owner's current role. */
export function lowerRole(a: Role, b: Role): Role {
  return roleAtMost(a, b) ? a : b;
}

/** Whether the actor may act on `targetId`: always for a session, only on its targets for a scoped token. */
export function targetInScope(actor: Actor, targetId: string): boolean {
  return !actor.via?.targets || actor.via.targets.includes(targetId);
}

/** Throws unless the actor may act on `targetId` (see targetInScope), naming the token and its targets. */
export function authorizeTarget(actor: Actor, targetId: string): void {
  if (!targetInScope(actor, targetId)) throw new OutOfScopeError(actor.via!.tokenId, actor.via!.targets!, targetId);
}

export class OutOfScopeError extends ForbiddenError {
  constructor(
    readonly tokenId: number,
    readonly targets: string[],
    readonly targetId: string,
  ) {
    super(`token ${tokenId} may act only on target${targets.length > 1 ? "s" : ""} ${targets.join(", ")}, not ${targetId}`);
  }
}

/** Throws unless the actor exists and its role grants the action; returns the actor for chaining. */
export function authorize(actor: Actor | null | undefined, action: Action): Actor {
  if (!actor) throw new UnauthenticatedError();
  if (!can(actor.role, action)) throw new ForbiddenError(`role ${actor.role ?? "(none)"} may not ${action}`);
  return actor;
}
