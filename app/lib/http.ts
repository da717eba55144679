import { NextResponse } from "next/server";
import { z } from "zod";
import { OutOfScopeError } from "@/lib/auth/policy";
import { TokenError } from "@/lib/auth/tokens";
import { RolloutError } from "@/lib/rollout/rollouts";
import { PolicyError } from "@/lib/targets/policies";

export const RolloutId = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** One mapping from lib errors to HTTP: refusals keep their reason, the rest is logged and hidden. */
export function errorResponse(err: unknown, context: string): NextResponse {
  if (err instanceof RolloutError || err instanceof PolicyError || err instanceof OutOfScopeError || err instanceof TokenError)
    return NextResponse.json({ error: err.message }, { status: err.status });
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
      fields: error.issues.map((i) => `${i.path.join(".") || source}: ${i.message}`),
    },
    { status: source === "query" ? 400 : 422 },
  );
}
