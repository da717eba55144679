import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { API_ROUTES, openApiDocument } from "./openapi";

const API = path.join(import.meta.dirname, "../../app/api");

function routeFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? routeFiles(path.join(dir, e.name)) : e.name === "route.ts" ? [path.join(dir, e.name)] : [],
  );
}

/** What the handlers on disk answer: "METHOD /api/path/{param}" for every exported method of every route.ts. */
function onDisk(): string[] {
  return routeFiles(API)
    .flatMap((file) => {
      const route =
        "/api/" +
        path
          .relative(API, path.dirname(file))
          .split(path.sep)
          .map((segment) => segment.replace(/^\[(?:\.\.\.)?(\w+)\]$/, "{$1}"))
          .join("/");
      const source = readFileSync(file, "utf8");
      const declared = [...source.matchAll(/^export (?:async )?function (GET|POST|PUT|PATCH|DELETE)\b/gm)].map((m) => m[1]);
      const reexported = [...source.matchAll(/^export \{([^}]*)\}/gm)].flatMap((m) =>
        [...m[1].matchAll(/\bas (GET|POST|PUT|PATCH|DELETE)\b/g)].map((a) => a[1]),
      );
      return [...declared, ...reexported].map((method) => `${method} ${route}`);
    })
    .sort();
}

describe("the OpenAPI document", () => {
  it("documents every route handler's methods on disk, and nothing that isn't there", () => {
    const disk = onDisk();
    expect(disk.length).toBeGreaterThanOrEqual(14);
    const documented = Object.entries(openApiDocument().paths as Record<string, Record<string, unknown>>)
      .flatMap(([p, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    expect(documented).toEqual(disk);
  });

  it("names each path parameter of its route, a body for every JSON POST, and the statuses scripts meet", () => {
    const doc = openApiDocument() as {
      openapi: string;
      paths: Record<
        string,
        Record<
          string,
          {
            parameters?: Array<{ name: string; in: string }>;
            requestBody?: unknown;
            responses: Record<string, unknown>;
            security: unknown[];
          }
        >
      >;
    };
    expect(doc.openapi).toBe("3.1.0");
    for (const [p, methods] of Object.entries(doc.paths)) {
      const params = [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(methods)) {
        expect(
          (op.parameters ?? []).filter((x) => x.in === "path").map((x) => x.name),
          `${method} ${p}`,
        ).toEqual(params);
        const spec = API_ROUTES[p][method as "get" | "post"]!;
        if (spec.json) {
          expect(op.requestBody, `${method} ${p}`).toBeDefined();
          expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["400", "401", "403", "413", "415"]));
        }
      }
    }
    expect(doc.paths["/api/rollouts"].get.parameters!.map((x) => x.name)).toEqual(["target", "state", "limit"]);
    expect(doc.paths["/api/rollouts/{id}/approve"].post.security).toEqual([{ bearerToken: [] }, { sessionCookie: [] }]);
    expect(JSON.stringify(doc.paths["/api/rollouts/{id}/approve"].post.requestBody)).toContain("changesetSha256");
  });
});
