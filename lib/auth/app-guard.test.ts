import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

// Every way into the app decides who may pass on its own: the proxy only sends browsers without a
// session to the login page, and API routes don't go through it at all. This reads the app's sources
// so that a new page, route handler or server action without its check fails here, before review.

const APP = path.join(import.meta.dirname, "../../app");

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]));
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
};

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
      const asValues = [...source.matchAll(/^export const (GET|POST|PUT|PATCH|DELETE)\b/gm)].map((m) => `${rel(f)}: ${m[1]} is not a function declaration`);
      // jsonRequest asks apiActor itself, after the checks that need no session.
      return asValues.concat(exportedFunctions(source).filter((fn) => /^(GET|POST|PUT|PATCH|DELETE)$/.test(fn.name) && !/\b(apiActor|jsonRequest)\(/.test(fn.body))
        .map((fn) => `${rel(f)}: ${fn.name}`));
    });
    expect(unchecked).toEqual([]);
  });

  it("every route handler that changes state reads its body through jsonRequest (same origin, JSON, capped)", () => {
    // next-auth's sign-in POSTs carry its own CSRF token (double-submit cookie) and are form-encoded.
    const unguarded = routes.filter((f) => rel(f) !== "api/auth/[...nextauth]/route.ts").flatMap((f) => {
      const source = readFileSync(f, "utf8");
      return exportedFunctions(source).filter((fn) => /^(POST|PUT|PATCH|DELETE)$/.test(fn.name))
        .filter((fn) => !fn.body.includes("jsonRequest(") || /\brequest\.(json|text|formData|arrayBuffer|blob|body)\b/.test(fn.body))
        .map((fn) => `${rel(f)}: ${fn.name}`);
    });
    expect(unguarded).toEqual([]);
  });

  it("every page but login and logout asks who is signed in", () => {
    const unchecked = pages.filter((f) => !PUBLIC_PAGES.has(rel(f)))
      .filter((f) => !/\b(pageActor|currentActor)\(/.test(readFileSync(f, "utf8"))).map(rel);
    expect(unchecked).toEqual([]);
  });

  it("every server action asks who is calling before it does anything", () => {
    const unchecked = actionFiles.flatMap((f) => exportedFunctions(readFileSync(f, "utf8"))
      .filter((fn) => !fn.body.includes("currentActor("))
      .map((fn) => `${rel(f)}: ${fn.name}`));
    expect(unchecked).toEqual([]);
  });
});
