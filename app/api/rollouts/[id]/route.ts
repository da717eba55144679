import { NextResponse } from "next/server";
import { rolloutStatus } from "@/lib/rollout/status";
import { storePool } from "@/lib/store/pool";
import { apiActor } from "@/app/lib/session";
import { RolloutId } from "@/app/lib/http";

export const dynamic = "force-dynamic";

/** One rollout for a script to follow: state, statements with status and progress, approvals, last error. */
export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  const actor = await apiActor("rollouts:read");
  if (actor instanceof NextResponse) return actor;
  const id = RolloutId.safeParse((await params).id);
  const status = id.success ? await rolloutStatus(storePool(), id.data) : null;
  if (!status) return NextResponse.json({ error: `no rollout ${(await params).id.slice(0, 40)}` }, { status: 404 });
  return NextResponse.json(status, { headers: { "Cache-Control": "no-store" } });
}
