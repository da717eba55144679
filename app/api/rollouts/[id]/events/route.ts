import { NextResponse } from "next/server";
import { visibleEvent } from "@/lib/auth/blockers";
import { getRollout } from "@/lib/rollout/rollouts";
import { storePool } from "@/lib/store/pool";
import { eventHub } from "@/lib/serve/background";
import { apiActor, sessionRecheck } from "@/app/lib/session";
import { RolloutId } from "@/app/lib/http";
import { liveStreams } from "@/lib/web/stream-limit";

export const dynamic = "force-dynamic";

/**
 * Server-Sent Events of one rollout: the whole history after Last-Event-ID (or ?after=), then live
 * events as the job runner appends them. Needs a session like every page.
 */
export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const actor = await apiActor("rollouts:read");
  if (actor instanceof NextResponse) return actor;
  const id = RolloutId.safeParse((await params).id);
  const rollout = id.success ? await getRollout(storePool(), id.data) : null;
  if (!id.success || !rollout) return NextResponse.json({ error: "unknown rollout" }, { status: 404 });
  const release = liveStreams.acquire(actor.id);
  if (!release)
    return NextResponse.json(
      { error: `at most ${liveStreams.perUser} live streams per user; close another tab of a rollout` },
      { status: 429 },
    );
  request.signal.addEventListener("abort", release);
  const url = new URL(request.url);
  const after = Number(request.headers.get("last-event-id") ?? url.searchParams.get("after") ?? 0);
  const afterId = Number.isSafeInteger(after) && after > 0 ? after : 0;
  const stillAllowed = await sessionRecheck("rollouts:read");
  const hub = eventHub();
  const encoder = new TextEncoder();
  let cleanup = () => undefined as void;
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (text: string) => {
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          cleanup();
        }
      };
      send("retry: 2000\n\n");
      const unsubscribe = await hub.subscribe(id.data, afterId, (events) => {
        // Blocking sessions' query text only for the roles that may read it (lib/auth/blockers.ts).
        for (const e of events)
          send(`id: ${e.id}\nevent: rollout\ndata: ${JSON.stringify(visibleEvent(e, actor.role, rollout.environment))}\n\n`);
      });
      // A comment line keeps proxies from closing an idle stream, and a periodic catch-up covers a missed NOTIFY.
      const keepalive = setInterval(() => {
        send(": keepalive\n\n");
        hub.poke(id.data);
      }, 15_000);
      // A viewer disabled, demoted or logged out since the stream opened loses it (the browser's
      // reconnect then gets 401). A store error leaves the stream to the next check.
      const recheck = setInterval(
        () =>
          void stillAllowed().then(
            (ok) => ok || end(),
            () => undefined,
          ),
        5_000,
      );
      const end = () => {
        cleanup();
        try {
          controller.close();
        } catch {
          // already closed
        }
      };
      cleanup = () => {
        release();
        clearInterval(keepalive);
        clearInterval(recheck);
        unsubscribe();
      };
      request.signal.addEventListener("abort", () => {
        cleanup();
        try {
          controller.close();
        } catch {
          // already closed
        }
      });
    },
    cancel() {
      cleanup();
    },
  });
  return new Response(stream, {
    headers: {
      "Content-Type": "text/event-stream",
      "Cache-Control": "no-cache, no-transform",
      "X-Accel-Buffering": "no",
      Connection: "keep-alive",
    },
  });
}
