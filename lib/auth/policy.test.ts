import { describe, expect, it } from "vitest";
import { ACTIONS, ROLES, authorize, can, ForbiddenError, lowerRole, roleAtMost, UnauthenticatedError } from "./policy";

describe("policy", () => {
  it("nests the roles, so a token's role can be capped by its owner's (lowerRole is their intersection)", () => {
    const order = ["engineer", "manager", "sre", "dba", "admin"] as const;
    for (const [i, a] of order.entries())
      for (const [j, b] of order.entries()) {
        expect(roleAtMost(a, b)).toBe(i <= j);
        expect(lowerRole(a, b)).toBe(order[Math.min(i, j)]);
        for (const action of ACTIONS) expect(can(lowerRole(a, b), action)).toBe(can(a, action) && can(b, action));
      }
  });

  it("lets only dba, sre and admin operate rollouts", () => {
    const operators = ROLES.filter((r) => can(r, "rollout:run"));
    expect(operators.sort()).toEqual(["admin", "dba", "sre"]);
  });

  it("keeps engineers out of the audit log and managers out of operations", () => {
    expect(can("engineer", "audit:read")).toBe(false);
    expect(can("manager", "audit:export")).toBe(true);
    expect(can("manager", "rollout:approve")).toBe(false);
  });

  it("gives user management to admin alone", () => {
    expect(ROLES.filter((r) => can(r, "users:manage"))).toEqual(["admin"]);
  });

  it("lets dba and admin override a maintenance window, and only admin waive promotion", () => {
    expect(ROLES.filter((r) => can(r, "window:override")).sort()).toEqual(["admin", "dba"]);
    expect(ROLES.filter((r) => can(r, "promotion:waive"))).toEqual(["admin"]);
  });

  it("grants every action to admin and every read to everyone", () => {
    for (const a of ACTIONS) expect(can("admin", a)).toBe(true);
    for (const r of ROLES) expect(can(r, "rollouts:read")).toBe(true);
  });

  it("refuses a missing actor with 401 and a wrong role with 403", () => {
    expect(() => authorize(null, "rollouts:read")).toThrow(UnauthenticatedError);
    const err = (() => {
      try {
        authorize({ id: 1, email: "e", role: "engineer" }, "changeset:create");
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ForbiddenError);
    expect((err as ForbiddenError).status).toBe(403);
  });
});

describe("reads that follow the roles table", () => {
  it("gives the audit log (and the report's audit trail, overrides and sign-off notes) to managers, not engineers", () => {
    expect(ROLES.filter((r) => can(r, "audit:read")).sort()).toEqual(["admin", "dba", "manager", "sre"]);
  });

  it("gives production sessions' query text to dba, sre and admin only", () => {
    expect(ROLES.filter((r) => can(r, "sessions:query-text")).sort()).toEqual(["admin", "dba", "sre"]);
  });
});
