/**
 * api/ — the HTTP API described: the OpenAPI document, built from the route handlers' own zod
 * schemas, so the document and what the handlers accept cannot drift apart.
 */
import * as z from "zod";
import { AuditFilter } from "../audit/query";
import type { Action } from "../auth/policy";
import { TOKEN_PREFIX } from "../auth/tokens";
import { UploadChangeSet } from "../changeset/store";
import { UsageQuery } from "../monitor/usage";
import { ApprovalInput } from "../rollout/approvals";
import { MACHINE, PhaseInput, PHASES } from "../rollout/machine";
import { NewRollout } from "../rollout/rollouts";
import { RolloutQuery } from "../rollout/status";
import { PolicyChange } from "../targets/policies";

/**
 * The HTTP API described once, as OpenAPI 3.1 (served at /api/openapi.json). Bodies and queries are
 * the route handlers' own zod schemas turned into JSON Schema, so the document can't drift from what
 * the handlers accept; lib/api/openapi.test.ts checks every route handler on disk against the paths
 * and methods listed here, both ways.
 */

type Method = "get" | "post";

interface Operation {
  summary: string;
  /** The permission the handler asks for (lib/auth/policy), or how else it is gated. */
  permission: Action | "phase" | "none" | "metrics token" | "next-auth";
  query?: z.ZodObject;
  body?: z.ZodType;
  /** The success response: status, media type and a short description. */
  ok: { status: number; type: string; description: string };
  /** Refusals besides the ones every authenticated call can get (400/401/403), with why. */
  errors?: Record<number, string>;
  /** State-changing JSON routes: same origin, application/json, capped body (app/lib/json-request.ts). */
  json?: boolean;
  pathParams?: string[];
}

const ROLLOUT_ID = ["id"];

/** Every route of app/api, by its URL path with {params}: what it takes and what it answers. */
export const API_ROUTES: Record<string, Partial<Record<Method, Operation>>> = {
  "/api/rollouts": {
    get: {
      summary: "Rollouts, newest first, optionally of one target and in one state",
      permission: "rollouts:read",
      query: RolloutQuery,
      ok: {
        status: 200,
        type: "application/json",
        description:
          "{ rollouts: [{ id, state, targetId, environment, changesetName, changesetSha256, requestedBy, createdAt, updatedAt }] }",
      },
    },
    post: {
      summary: "Create a rollout of a change set on a target",
      permission: "rollout:create",
      body: NewRollout,
      json: true,
      ok: { status: 201, type: "application/json", description: "{ id, state }" },
      errors: { 404: "unknown target or change set", 422: "invalid body, lint errors or statements the policy refuses" },
    },
  },
  "/api/rollouts/{id}": {
    get: {
      summary: "One rollout: state, statements with status and progress, approvals, last error with its code",
      permission: "rollouts:read",
      pathParams: ROLLOUT_ID,
      ok: { status: 200, type: "application/json", description: "RolloutStatus (lib/rollout/status.ts)" },
      errors: { 404: "no such rollout" },
    },
  },
  "/api/rollouts/{id}/approve": {
    post: {
      summary: "Approve or reject a rollout, as the caller (for a token: its owner)",
      permission: "rollout:approve",
      body: ApprovalInput,
      json: true,
      pathParams: ROLLOUT_ID,
      ok: { status: 200, type: "application/json", description: "{ message }" },
      errors: {
        404: "no such rollout",
        409: "not awaiting approval, other SQL, or already decided",
        422: "invalid body, the requester, or a role the target's policy excludes",
      },
    },
  },
  "/api/rollouts/{id}/{phase}": {
    post: {
      summary: `Start a phase: ${PHASES.join(", ")} (${PHASES.map((p) => `${p}: ${MACHINE[p].permission}`).join(", ")})`,
      permission: "phase",
      body: PhaseInput,
      json: true,
      pathParams: [...ROLLOUT_ID, "phase"],
      ok: { status: 202, type: "application/json", description: "{ message }: queued; follow it with GET /api/rollouts/{id}" },
      errors: { 404: "no such rollout or phase", 409: "the rollout's state doesn't allow it", 422: "invalid body" },
    },
  },
  "/api/rollouts/{id}/events": {
    get: {
      summary: "The rollout's events as Server-Sent Events: history after Last-Event-ID, then live",
      permission: "rollouts:read",
      pathParams: ROLLOUT_ID,
      ok: { status: 200, type: "text/event-stream", description: "events named rollout, data: { id, kind, taskSeq, at, data }" },
      errors: { 404: "no such rollout", 429: "too many open streams for this user" },
    },
  },
  "/api/rollouts/{id}/report": {
    get: {
      summary: "The rollout's completion report as Markdown",
      permission: "rollouts:read",
      pathParams: ROLLOUT_ID,
      ok: { status: 200, type: "text/markdown", description: "the report" },
      errors: { 404: "no such rollout" },
    },
  },
  "/api/changesets": {
    post: {
      summary: "Upload a change set (its SQL at most 1 MiB) with the query patterns it should speed up (optional, at most 256 KiB)",
      permission: "changeset:create",
      body: UploadChangeSet,
      json: true,
      ok: { status: 201, type: "application/json", description: "{ id, sha256, findings }" },
      errors: { 409: "the same SQL and query patterns exist already", 422: "invalid change set or query patterns (file:line:column)" },
    },
  },
  "/api/targets/{id}/policy": {
    get: {
      summary: "A target's policy in force, where it came from, and every version saved",
      permission: "targets:read",
      pathParams: ["id"],
      ok: { status: 200, type: "application/json", description: "{ target, version, latest, policy, pending, history }" },
      errors: { 404: "no such target" },
    },
    post: {
      summary: "Save a new policy version (production: pending until a second admin approves)",
      permission: "policy:manage",
      body: PolicyChange.omit({ targetId: true }),
      json: true,
      pathParams: ["id"],
      ok: { status: 200, type: "application/json", description: "the saved version" },
      errors: { 404: "no such target", 409: "saved by someone else since basedOn", 422: "invalid policy, or below production's floor" },
    },
  },
  "/api/usage": {
    get: {
      summary: "Scans of one index per minute over 24h / 7d / 30d, with rollout markers",
      permission: "indexes:read",
      query: UsageQuery,
      ok: { status: 200, type: "application/json", description: "{ target, index, range, series, markers }" },
    },
  },
  "/api/audit/export": {
    get: {
      summary: "The audit log, filtered, streamed as CSV or JSON with every hash",
      permission: "audit:export",
      query: AuditFilter.extend({ format: z.enum(["csv", "json"]).default("csv") }),
      ok: { status: 200, type: "text/csv", description: "CSV (or a JSON array with format=json)" },
    },
  },
  "/api/metrics": {
    get: {
      summary: "Prometheus metrics; needs INDEXDECK_METRICS_TOKEN as the bearer token (not an API token)",
      permission: "metrics token",
      ok: { status: 200, type: "text/plain", description: "Prometheus text format" },
      errors: { 401: "bad or missing metrics token", 404: "metrics are off (no INDEXDECK_METRICS_TOKEN)" },
    },
  },
  "/api/openapi.json": {
    get: {
      summary: "This document",
      permission: "none",
      ok: { status: 200, type: "application/json", description: "OpenAPI 3.1" },
    },
  },
  "/api/auth/{nextauth}": {
    get: {
      summary: "next-auth's own endpoints (session, csrf, providers): for the browser's sign-in, not for scripts",
      permission: "next-auth",
      pathParams: ["nextauth"],
      ok: { status: 200, type: "application/json", description: "next-auth's answer" },
    },
    post: {
      summary: "next-auth's sign-in and sign-out (form-encoded, with its CSRF token): for the browser, not for scripts",
      permission: "next-auth",
      pathParams: ["nextauth"],
      ok: { status: 302, type: "text/html", description: "a redirect" },
    },
  },
};

const ERROR_BODY = {
  type: "object",
  properties: { error: { type: "string" }, fields: { type: "array", items: { type: "string" } } },
  required: ["error"],
};

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  // Embedded in the document: the dialect is the document's own (OpenAPI 3.1 is JSON Schema 2020-12).
  const converted = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  delete converted.$schema;
  return converted;
}

function errorResponse(description: string) {
  return { description, content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
}

function operation(op: Operation): Record<string, unknown> {
  const authenticated = !["none", "metrics token", "next-auth"].includes(op.permission);
  const responses: Record<string, unknown> = {
    [op.ok.status]: { description: op.ok.description, content: { [op.ok.type]: {} } },
  };
  if (authenticated) {
    responses[400] = errorResponse(
      op.query
        ? "invalid URL parameters (each field named), or both a session cookie and a bearer token"
        : "both a session cookie and a bearer token, or a body that isn't JSON",
    );
    responses[401] = errorResponse("no session and no token, or the token is unknown, expired, revoked or its owner disabled");
    responses[403] = errorResponse(
      `the role may not (${op.permission === "phase" ? "the phase's permission" : op.permission}), a cross-site request, or a target outside the token's scope`,
    );
  }
  if (op.json) {
    responses[413] = errorResponse("the body is over the route's limit");
    responses[415] = errorResponse("the body is not application/json");
  }
  for (const [status, why] of Object.entries(op.errors ?? {})) responses[status] = errorResponse(why);
  const parameters = [
    ...(op.pathParams ?? []).map((name) => ({ name, in: "path", required: true, schema: { type: "string" } })),
    ...Object.entries((jsonSchema(op.query ?? z.object({})).properties ?? {}) as Record<string, unknown>).map(([name, schema]) => ({
      name,
      in: "query",
      required: false,
      schema,
    })),
  ];
  return {
    summary: op.summary,
    "x-permission": op.permission,
    ...(authenticated ? { security: [{ bearerToken: [] }, { sessionCookie: [] }] } : { security: [] }),
    ...(parameters.length ? { parameters } : {}),
    ...(op.body
      ? { requestBody: { required: op.permission !== "phase", content: { "application/json": { schema: jsonSchema(op.body) } } } }
      : {}),
    responses,
  };
}

/** The whole document. */
export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: "3.1.0",
    info: {
      title: "indexdeck",
      version: "1",
      description:
        "Roll out PostgreSQL indexes safely. Scripts authenticate with an API token (Tokens page, or `indexdeck tokens create`) " +
        `sent as \`Authorization: Bearer ${TOKEN_PREFIX}…\`, and send no session cookie with it. State-changing calls take application/json.`,
    },
    paths: Object.fromEntries(
      Object.entries(API_ROUTES).map(([path, methods]) => [
        path,
        Object.fromEntries(Object.entries(methods).map(([method, op]) => [method, operation(op!)])),
      ]),
    ),
    components: {
      securitySchemes: {
        bearerToken: {
          type: "http",
          scheme: "bearer",
          description: `An API token, ${TOKEN_PREFIX} and 43 characters: acts as its owner with at most its role, on its targets only when it has some`,
        },
        sessionCookie: {
          type: "apiKey",
          in: "cookie",
          name: "next-auth.session-token",
          description: "The browser's session (prefixed __Secure- over https)",
        },
      },
      schemas: { Error: ERROR_BODY },
    },
  };
}
