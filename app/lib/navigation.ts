import type { Action } from "@/lib/auth/policy";

/** The shell's navigation; each entry is shown to roles that may take its action. */
export const NAV: Array<{ href: string; label: string; action: Action }> = [
  { href: "/rollouts", label: "Rollouts", action: "rollouts:read" },
  { href: "/changesets", label: "Change sets", action: "changesets:read" },
  { href: "/indexes", label: "Indexes", action: "indexes:read" },
  { href: "/audit", label: "Audit", action: "audit:read" },
  { href: "/signoffs", label: "Sign-offs", action: "signoffs:read" },
  { href: "/targets", label: "Targets", action: "targets:read" },
  { href: "/users", label: "Users", action: "users:manage" },
  { href: "/webhooks", label: "Webhooks", action: "webhooks:read" },
  // Everyone may hold API tokens for themselves; every role reads rollouts.
  { href: "/tokens", label: "Tokens", action: "rollouts:read" },
];
