import { NextResponse } from "next/server";
import { RANGES, rolloutMarkers, UsageQuery, usageSeries } from "@/lib/monitor/usage";
import { storePool } from "@/lib/store/pool";
import { apiActor } from "@/app/lib/session";
import { invalid } from "@/app/lib/http";

export const dynamic = "force-dynamic";

/** Usage of one index over 24h / 7d / 30d, with rollout markers; a range outside those is a 400 naming it. */
export async function GET(request: Request) {
  const actor = await apiActor("indexes:read");
  if (actor instanceof NextResponse) return actor;
  const parsed = UsageQuery.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!parsed.success) return invalid(parsed.error, "query");
  const { target, index, range } = parsed.data;
  const pool = storePool();
  const [series, markers] = await Promise.all([
    usageSeries(pool, target, index, range),
    rolloutMarkers(pool, target, index.split(".").slice(1).join("."), RANGES[range].hours),
  ]);
  return NextResponse.json({ target, index, range, series, markers });
}
