import { NextResponse } from "next/server";
import { z } from "zod";
import { RolloutError } from "@/lib/rollout/rollouts";
import { PolicyError } from "@/lib/targets/policies";

export const RolloutId = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** One mapping from lib errors to HTTP: refusals keep their reason, the rest is logged and hidden. */
export function errorResponse(err: unknown, context: string): NextResponse {
  if (err instanceof RolloutError || err instanceof PolicyError) return NextResponse.json({ error: err.message }, { status: err.status });
  console.error(`${context}:`, err);
  return NextResponse.json({ error: `${context} failed; the server log has the details` }, { status: 500 });
}

export function invalid(error: z.ZodError): NextResponse {
  return NextResponse.json({ error: "invalid input", fields: error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`) }, { status: 422 });
}
