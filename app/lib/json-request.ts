import { NextResponse } from "next/server";
import type { Action, Actor } from "@/lib/auth/policy";
import { storePool } from "@/lib/store/pool";
import { BODY_LIMIT_BYTES, contentTypeRefusal, crossSiteRefusal, declaredSizeRefusal, ownOrigin, readCappedJson, type Refusal } from "@/lib/web/guard";
import { RefusalLog } from "@/lib/web/refusals";
import { apiActor } from "@/app/lib/session";

// One per app server: refused cross-site requests reach the audit log at most once a minute.
const refusals = new RefusalLog(() => storePool());

function refuse(r: Refusal): NextResponse {
  return NextResponse.json({ error: r.error }, { status: r.status });
}

/**
 * The way into every route handler that changes state: refuses a cross-site browser request (403,
 * audited in aggregate) and a body that isn't JSON (415) or is over `limit` (413, unread) before it
 * looks at the session, then asks apiActor, then reads and parses the body. Nothing is decided, and
 * nothing written, before all of that has passed.
 */
export async function jsonRequest(request: Request, action: Action, limit = BODY_LIMIT_BYTES): Promise<{ actor: Actor; body: unknown } | NextResponse> {
  const crossSite = crossSiteRefusal(request.headers, ownOrigin(request.url));
  if (crossSite) {
    refusals.note(crossSite.kind, { method: request.method, path: new URL(request.url).pathname, origin: request.headers.get("origin") });
    return refuse(crossSite);
  }
  const early = contentTypeRefusal(request.headers) ?? declaredSizeRefusal(request.headers, limit);
  if (early) return refuse(early);
  const actor = await apiActor(action);
  if (actor instanceof NextResponse) return actor;
  const read = await readCappedJson(request, limit);
  if ("status" in read) return refuse(read);
  return { actor, body: read.body };
}
