import { NextResponse } from "next/server";
import type { Action, Actor } from "@/lib/auth/policy";
import {
  BODY_LIMIT_BYTES,
  contentTypeRefusal,
  crossSiteRefusal,
  declaredSizeRefusal,
  ownOrigin,
  readCappedJson,
  type Refusal,
} from "@/lib/web/guard";
import { apiActor, refusals } from "@/app/lib/session";

function refuse(r: Refusal): NextResponse {
  return NextResponse.json({ error: r.error }, { status: r.status });
}

/**
 * The way into every route handler that changes state: refuses a cross-site browser request (403,
 * audited in aggregate) and a body that isn't JSON (415) or is over `limit` (413, unread) before it
 * looks at the session, then asks apiActor, then reads and parses the body. Nothing is decided, and
 * nothing written, before all of that has passed. A script with an API token sends no Origin and
 * no Sec-Fetch-Site, so it passes the cross-site check and is judged by its token (apiActor).
 */
export async function jsonRequest(
  request: Request,
  action: Action,
  limit = BODY_LIMIT_BYTES,
): Promise<{ actor: Actor; body: unknown } | NextResponse> {
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
