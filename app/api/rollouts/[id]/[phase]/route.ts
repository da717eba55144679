import { NextResponse } from "next/server";
import * as z from "zod";
import { MACHINE, PhaseInput, PHASES, requestPhase } from "@/lib/rollout/machine";
import { storePool } from "@/lib/store/pool";
import { jsonRequest } from "@/app/lib/json-request";
import { errorResponse, invalid, RolloutId } from "@/app/lib/http";
import { governingTargets } from "@/lib/targets/source";

export const dynamic = "force-dynamic";

/** Start a phase of a rollout: the same engine call as the page's buttons, for scripts and tests. */
export async function POST(request: Request, { params }: { params: Promise<{ id: string; phase: string }> }) {
  const { id, phase } = await params;
  const parsedPhase = z.enum(PHASES).safeParse(phase);
  if (!parsedPhase.success) return NextResponse.json({ error: `unknown phase ${phase}` }, { status: 404 });
  const input = await jsonRequest(request, MACHINE[parsedPhase.data].permission);
  if (input instanceof NextResponse) return input;
  const { actor } = input;
  const rolloutId = RolloutId.safeParse(id);
  if (!rolloutId.success) return NextResponse.json({ error: `invalid rollout id ${id}` }, { status: 404 });
  const body = PhaseInput.safeParse(input.body ?? {}); // an empty body is a phase with no inputs
  if (!body.success) return invalid(body.error);
  try {
    return NextResponse.json(
      await requestPhase(storePool(), rolloutId.data, parsedPhase.data, actor, body.data, governingTargets(storePool())),
      { status: 202 },
    );
  } catch (err) {
    return errorResponse(err, `${parsedPhase.data} of rollout ${rolloutId.data}`);
  }
}
