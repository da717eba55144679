import { NextResponse } from "next/server";
import { ReportError, reportMarkdown, sharedReports } from "@/lib/rollout/report";
import { storePool } from "@/lib/store/pool";
import { BusyError, reportWork } from "@/lib/web/work-limit";
import { apiActor } from "@/app/lib/session";
import { RolloutId } from "@/app/lib/http";

export const dynamic = "force-dynamic";

/** The rollout's completion report as Markdown, generated now from what was recorded. */
export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  const actor = await apiActor("rollouts:read");
  if (actor instanceof NextResponse) return actor;
  const id = RolloutId.safeParse((await params).id);
  if (!id.success) return NextResponse.json({ error: "invalid rollout id" }, { status: 404 });
  try {
    // A few at a time per server (lib/web/work-limit.ts): a burst of reports waits its turn, sign-ins don't.
    const text = reportMarkdown(await reportWork.run(() => sharedReports.get(storePool(), id.data, actor.role)));
    return new Response(text, {
      headers: {
        "Content-Type": "text/markdown; charset=utf-8",
        "Content-Disposition": `attachment; filename="indexdeck-rollout-${id.data}.md"`,
      },
    });
  } catch (err) {
    if (err instanceof ReportError) return NextResponse.json({ error: err.message }, { status: 404 });
    if (err instanceof BusyError) return NextResponse.json({ error: err.message }, { status: 503, headers: { "Retry-After": "5" } });
    throw err;
  }
}
