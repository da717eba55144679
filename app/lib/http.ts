import { NextResponse } from "next/server";
import * as z from "zod";
import { UserChangeError } from "@/lib/auth/manage";
import { ForbiddenError, UnauthenticatedError } from "@/lib/auth/policy";
import { TokenError } from "@/lib/auth/tokens";
import { RolloutError } from "@/lib/rollout/rollouts";
import { PolicyError } from "@/lib/targets/policies";

export const RolloutId = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/**
 * The lib errors that refuse a request with a reason the caller may read: one mapping for route
 * handlers and server actions alike. "You may not" is always a ForbiddenError (lib/auth/policy.ts),
 * and it alone is 403; the others carry their status (404, 409, 422). Anything else is a fault,
 * logged and hidden.
 */
export function refusalOf(err: unknown): { status: number; error: string } | null {
  if (err instanceof ForbiddenError) return { status: 403, error: err.message };
  if (err instanceof UnauthenticatedError) return { status: 401, error: err.message };
  if (err instanceof RolloutError || err instanceof PolicyError || err instanceof TokenError || err instanceof UserChangeError)
    return { status: err.status, error: err.message };
  return null;
}

/** A route handler's error as HTTP: a refusal keeps its reason, the rest is logged and hidden. */
export function errorResponse(err: unknown, context: string): NextResponse {
  const refused = refusalOf(err);
  if (refused) return NextResponse.json({ error: refused.error }, { status: refused.status });
  console.error(`${context}:`, err);
  return NextResponse.json({ error: `${context} failed; the server log has the details` }, { status: 500 });
}

/**
 * A refused input, naming each field and what is wrong with it: 400 for the URL's parameters (the
 * request itself is malformed), 422 for a well-formed body whose content is not acceptable.
 */
export function invalid(error: z.ZodError, source: "query" | "body" = "body"): NextResponse {
  return NextResponse.json(
    {
      error: source === "query" ? "invalid URL parameters" : "invalid input",
      fields: fieldErrors(error, source),
    },
    { status: source === "query" ? 400 : 422 },
  );
}

/** Each refused field and why, in one format for route handlers and server actions. */
export function fieldErrors(error: z.ZodError, source = "form"): string[] {
  return error.issues.map((i) => `${i.path.join(".") || source}: ${i.message}`);
}
