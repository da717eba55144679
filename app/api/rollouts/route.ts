import { NextResponse } from "next/server";
import { createRollout, NewRollout } from "@/lib/rollout/rollouts";
import { findRollouts, RolloutQuery } from "@/lib/rollout/status";
import { storePool } from "@/lib/store/pool";
import { jsonRequest } from "@/app/lib/json-request";
import { apiActor } from "@/app/lib/session";
import { errorResponse, invalid } from "@/app/lib/http";
import { governingTargets } from "@/lib/targets/source";

export const dynamic = "force-dynamic";

/** Rollouts, newest first: `?target=ID&state=STATE&limit=N` (each optional; a bad one is a 400 naming it). */
export async function GET(request: Request) {
  const actor = await apiActor("rollouts:read");
  if (actor instanceof NextResponse) return actor;
  const query = RolloutQuery.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!query.success) return invalid(query.error, "query");
  return NextResponse.json({ rollouts: await findRollouts(storePool(), query.data) }, { headers: { "Cache-Control": "no-store" } });
}

/** Create a rollout (dba, sre, admin). */
export async function POST(request: Request) {
  const input = await jsonRequest(request, "rollout:create");
  if (input instanceof NextResponse) return input;
  const { actor } = input;
  const parsed = NewRollout.safeParse(input.body);
  if (!parsed.success) return invalid(parsed.error);
  try {
    const rollout = await createRollout(storePool(), governingTargets(storePool()), parsed.data, actor);
    return NextResponse.json({ id: rollout.id, state: rollout.state }, { status: 201 });
  } catch (err) {
    return errorResponse(err, "creating the rollout");
  }
}
