import { NextResponse } from "next/server";
import { storePool } from "@/lib/store/pool";
import { findTarget } from "@/lib/targets/config";
import { changePolicy, PolicyChange, policyState } from "@/lib/targets/policies";
import { apiActor } from "@/app/lib/session";
import { jsonRequest } from "@/app/lib/json-request";
import { errorResponse, invalid } from "@/app/lib/http";
import { fileTargets } from "@/lib/targets/source";

export const dynamic = "force-dynamic";

/** A target's policy now, where it came from, and every version saved in the app. */
export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  const actor = await apiActor("targets:read");
  if (actor instanceof NextResponse) return actor;
  const target = findTarget(await fileTargets()(), (await params).id);
  if (!target) return NextResponse.json({ error: "no such target" }, { status: 404 });
  return NextResponse.json({ target: target.id, ...(await policyState(storePool(), target)) });
}

/** Saves a new version (admin only): body `{ policy, reason, basedOn }`, where basedOn is the version read. */
export async function POST(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const input = await jsonRequest(request, "policy:manage");
  if (input instanceof NextResponse) return input;
  const { actor, body } = input;
  const change = PolicyChange.safeParse({ ...(body && typeof body === "object" ? body : {}), targetId: (await params).id });
  if (!change.success) return invalid(change.error);
  try {
    return NextResponse.json(await changePolicy(storePool(), fileTargets(), actor, change.data));
  } catch (err) {
    return errorResponse(err, `policy change of ${change.data.targetId}`);
  }
}
