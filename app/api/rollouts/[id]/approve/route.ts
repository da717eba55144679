import { NextResponse } from "next/server";
import { ApprovalInput, decideRollout } from "@/lib/rollout/approvals";
import { storePool } from "@/lib/store/pool";
import { targetsWithPolicies } from "@/lib/targets/policies";
import { apiActor } from "@/app/lib/session";
import { errorResponse, invalid, RolloutId } from "@/app/lib/http";

export const dynamic = "force-dynamic";

/** Approve or reject a rollout. The approver is the session's user, whatever the body says. */
export async function POST(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const actor = await apiActor("rollout:approve");
  if (actor instanceof NextResponse) return actor;
  const id = RolloutId.safeParse((await params).id);
  if (!id.success) return NextResponse.json({ error: "invalid rollout id" }, { status: 404 });
  const body = ApprovalInput.safeParse(await request.json().catch(() => null));
  if (!body.success) return invalid(body.error);
  try {
    return NextResponse.json(await decideRollout(storePool(), await targetsWithPolicies(storePool()), id.data, actor, body.data));
  } catch (err) {
    return errorResponse(err, `approval of rollout ${id.data}`);
  }
}
