import { NextResponse } from "next/server";
import { ApprovalInput, decideRollout } from "@/lib/rollout/approvals";
import { storePool } from "@/lib/store/pool";
import { jsonRequest } from "@/app/lib/json-request";
import { errorResponse, invalid, RolloutId } from "@/app/lib/http";
import { governingTargets } from "@/lib/targets/source";

export const dynamic = "force-dynamic";

/** Approve or reject a rollout. The approver is the session's user, whatever the body says. */
export async function POST(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const input = await jsonRequest(request, "rollout:approve");
  if (input instanceof NextResponse) return input;
  const { actor } = input;
  const id = RolloutId.safeParse((await params).id);
  if (!id.success) return NextResponse.json({ error: "invalid rollout id" }, { status: 404 });
  const body = ApprovalInput.safeParse(input.body);
  if (!body.success) return invalid(body.error);
  try {
    return NextResponse.json(await decideRollout(storePool(), governingTargets(storePool()), id.data, actor, body.data));
  } catch (err) {
    return errorResponse(err, `approval of rollout ${id.data}`);
  }
}
