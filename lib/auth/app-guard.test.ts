import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { MACHINE } from "../rollout/machine";
import { ACTIONS, type Action } from "./policy";

// Every way into the app decides who may pass on its own: the proxy only sends browsers without a
// session to the login page, and API routes don't go through it at all. This reads the app's sources
// so that a new page, route handler or server action without its check fails here, before review.

const APP = path.join(import.meta.dirname, "../../app");

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

const rel = (file: string) => path.relative(APP, file);
const all = files(APP);

/** Each exported function of a module with the source up to the next export. */
function exportedFunctions(source: string): Array<{ name: string; body: string }> {
  const starts = [...source.matchAll(/^export (?:default )?(?:async )?function (\w+)/gm)];
  return starts.map((m, i) => ({ name: m[1], body: source.slice(m.index, starts[i + 1]?.index ?? source.length) }));
}

// Open on purpose, each for its reason.
const PUBLIC_PAGES = new Set(["login/page.tsx", "logout/page.tsx"]);
const OWN_GATE: Record<string, RegExp> = {
  "api/auth/[...nextauth]/route.ts": /NextAuth\(/, // next-auth's own sign-in and session endpoints
  "api/metrics/route.ts": /timingSafeEqual\(/, // Prometheus, with the bearer token instead of a session
  "api/openapi.json/route.ts": /openApiDocument\(\)/, // the API's description: the routes' shapes, no data
};

/**
 * What each way in asks of the policy, declared: a page, handler or action that asks for a weaker
 * permission than this (or a new one not listed) fails here. Keys are the file, and for handlers and
 * actions the exported function; values are the Action it passes to pageActor / apiActor / can /
 * authorize. A phase is authorized by its row of MACHINE (lib/rollout/machine.ts), checked below.
 */
// SIGNED_IN: a page open to anyone signed in, for their own account only (it asks currentActor, no permission).
// "own": an action open to anyone signed in, on what is theirs only (formAction's permission "own"; lib checks whose).
const PERMISSIONS: Record<string, Action | "MACHINE" | "SIGNED_IN" | "own"> = {
  "(app)/page.tsx": "rollouts:read",
  "(app)/help/page.tsx": "rollouts:read",
  "(app)/rollouts/page.tsx": "rollouts:read",
  "(app)/rollouts/[id]/page.tsx": "rollouts:read",
  "(app)/changesets/page.tsx": "changesets:read",
  "(app)/indexes/page.tsx": "indexes:read",
  "(app)/indexes/[target]/[index]/page.tsx": "indexes:read",
  "(app)/targets/page.tsx": "targets:read",
  "(app)/targets/[id]/page.tsx": "targets:read",
  "(app)/audit/page.tsx": "audit:read",
  "(app)/signoffs/page.tsx": "signoffs:read",
  "(app)/signoffs/[id]/page.tsx": "signoffs:read",
  "(app)/users/page.tsx": "users:manage",
  "(app)/webhooks/page.tsx": "webhooks:read",
  "(app)/tokens/page.tsx": "SIGNED_IN",
  "report/[id]/page.tsx": "rollouts:read",
  "api/audit/export/route.ts: GET": "audit:export",
  "api/usage/route.ts: GET": "indexes:read",
  "api/changesets/route.ts: POST": "changeset:create",
  "api/rollouts/route.ts: GET": "rollouts:read",
  "api/rollouts/route.ts: POST": "rollout:create",
  "api/rollouts/[id]/route.ts: GET": "rollouts:read",
  "api/rollouts/[id]/approve/route.ts: POST": "rollout:approve",
  "api/rollouts/[id]/[phase]/route.ts: POST": "MACHINE",
  "api/rollouts/[id]/events/route.ts: GET": "rollouts:read",
  "api/rollouts/[id]/report/route.ts: GET": "rollouts:read",
  "api/targets/[id]/policy/route.ts: GET": "targets:read",
  "api/targets/[id]/policy/route.ts: POST": "policy:manage",
  "(app)/indexes/actions.ts: draftDropAction": "changeset:create",
  "(app)/rollouts/actions.ts: createRolloutAction": "rollout:create",
  "(app)/rollouts/actions.ts: phaseAction": "MACHINE",
  "(app)/rollouts/actions.ts: approvalAction": "rollout:approve",
  "(app)/rollouts/actions.ts: signoffAction": "rollout:signoff",
  "(app)/rollouts/actions.ts: draftAnalyzeAction": "changeset:create",
  "(app)/targets/actions.ts: changePolicyAction": "policy:manage",
  "(app)/targets/actions.ts: approvePolicyAction": "policy:manage",
  "(app)/users/actions.ts: manageUserAction": "users:manage",
  "logout/actions.ts: logoutEverywhereAction": "own",
  // Tokens: lib/auth/tokens decides whose (one's own; an admin's reach is users:manage, asked there).
  "(app)/tokens/actions.ts: createTokenAction": "own",
  "(app)/tokens/actions.ts: revokeTokenAction": "own",
  "(app)/tokens/actions.ts: createServiceUserAction": "users:manage",
};

/**
 * The permissions a piece of source is gated on: a page's pageActor, a handler's apiActor, an action's
 * can/authorize (a page's own can() calls only decide which buttons to show). String literals give the
 * Action; MACHINE[…].permission gives the table's name.
 */
function asked(source: string, gate: "page" | "handler" | "action"): string[] {
  const pattern = {
    page: /\bpageActor\(([^()]*)\)/g,
    handler: /\b(?:apiActor\(|jsonRequest\(\s*request,\s*)([^(),]*(?:\[[^\]]*\])?)/g,
    // formAction (app/lib/action.ts) authorizes the `permission:` it is given.
    action: /\b(?:can\(\s*actor\.role|authorize\(\s*\w+),\s*([^()]*?)\)|\bpermission:\s*(?:\([^)]*\)\s*=>\s*)?([^,\n]+)/g,
  }[gate];
  const args = [...source.matchAll(pattern)].map((m) => (m[1] ?? m[2]).trim());
  return [...new Set(args.map((a) => /^["']([a-z:-]+)["']$/.exec(a)?.[1] ?? a.replace(/\[.*$/, "")))];
}

describe("the app's entry points", () => {
  const routes = all.filter((f) => f.endsWith("/route.ts"));
  const pages = all.filter((f) => f.endsWith("/page.tsx"));
  const actionFiles = all.filter((f) => /\.tsx?$/.test(f) && /^["']use server["']/m.test(readFileSync(f, "utf8")));

  it("finds them all (so the checks below cannot pass by finding nothing)", () => {
    expect(routes.length).toBeGreaterThanOrEqual(11);
    expect(pages.length).toBeGreaterThanOrEqual(16);
    expect(actionFiles.length).toBeGreaterThanOrEqual(3);
  });

  it("every route handler checks the caller with apiActor, or has a gate of its own", () => {
    const unchecked = routes.flatMap((f) => {
      const gate = OWN_GATE[rel(f)];
      const source = readFileSync(f, "utf8");
      if (gate) return gate.test(source) ? [] : [`${rel(f)}: lost its own gate`];
      // A handler exported as a value could not be read here: it must be written as a function.
      const asValues = [...source.matchAll(/^export const (GET|POST|PUT|PATCH|DELETE)\b/gm)].map(
        (m) => `${rel(f)}: ${m[1]} is not a function declaration`,
      );
      // jsonRequest asks apiActor itself, after the checks that need no session.
      return asValues.concat(
        exportedFunctions(source)
          .filter((fn) => /^(GET|POST|PUT|PATCH|DELETE)$/.test(fn.name) && !/\b(apiActor|jsonRequest)\(/.test(fn.body))
          .map((fn) => `${rel(f)}: ${fn.name}`),
      );
    });
    expect(unchecked).toEqual([]);
  });

  it("every route handler that changes state reads its body through jsonRequest (same origin, JSON, capped)", () => {
    // next-auth's sign-in POSTs carry its own CSRF token (double-submit cookie) and are form-encoded.
    const unguarded = routes
      .filter((f) => rel(f) !== "api/auth/[...nextauth]/route.ts")
      .flatMap((f) => {
        const source = readFileSync(f, "utf8");
        return exportedFunctions(source)
          .filter((fn) => /^(POST|PUT|PATCH|DELETE)$/.test(fn.name))
          .filter((fn) => !fn.body.includes("jsonRequest(") || /\brequest\.(json|text|formData|arrayBuffer|blob|body)\b/.test(fn.body))
          .map((fn) => `${rel(f)}: ${fn.name}`);
      });
    expect(unguarded).toEqual([]);
  });

  it("every page but login and logout asks who is signed in", () => {
    const unchecked = pages
      .filter((f) => !PUBLIC_PAGES.has(rel(f)))
      .filter((f) => !/\b(pageActor|currentActor)\(/.test(readFileSync(f, "utf8")))
      .map(rel);
    expect(unchecked).toEqual([]);
  });

  it("every server action asks who is calling before it does anything", () => {
    const unchecked = actionFiles.flatMap((f) =>
      exportedFunctions(readFileSync(f, "utf8"))
        // formAction asks currentActor first (app/lib/action.ts).
        .filter((fn) => !fn.body.includes("currentActor(") && !fn.body.includes("formAction("))
        .map((fn) => `${rel(f)}: ${fn.name}`),
    );
    expect(unchecked).toEqual([]);
  });

  it("each asks for the permission declared for it, and only that", () => {
    const found: Record<string, string[]> = {};
    for (const f of pages.filter((p) => !PUBLIC_PAGES.has(rel(p)))) found[rel(f)] = asked(readFileSync(f, "utf8"), "page");
    for (const f of routes.filter((r) => !OWN_GATE[rel(r)])) {
      for (const fn of exportedFunctions(readFileSync(f, "utf8")).filter((e) => /^(GET|POST|PUT|PATCH|DELETE)$/.test(e.name)))
        found[`${rel(f)}: ${fn.name}`] = asked(fn.body, "handler");
    }
    for (const f of actionFiles)
      for (const fn of exportedFunctions(readFileSync(f, "utf8"))) found[`${rel(f)}: ${fn.name}`] = asked(fn.body, "action");
    const expected = Object.fromEntries(Object.entries(PERMISSIONS).map(([k, v]) => [k, v === "SIGNED_IN" ? [] : [v]]));
    expect(found).toEqual(expected);
    for (const action of Object.values(PERMISSIONS))
      if (action !== "MACHINE" && action !== "SIGNED_IN" && action !== "own") expect(ACTIONS).toContain(action);
  });

  it("asks an operator's permission for every phase", () => {
    expect(Object.values(MACHINE).every(({ permission: a }) => a === "rollout:run" || a === "rollout:rollback")).toBe(true);
  });
});
