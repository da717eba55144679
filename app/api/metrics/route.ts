import { timingSafeEqual } from "node:crypto";
import { metricsText } from "@/lib/monitor/metrics";
import { storePool } from "@/lib/store/pool";

export const dynamic = "force-dynamic";

/** Prometheus scrape endpoint; protected by the bearer token in INDEXDECK_METRICS_TOKEN (off without it). */
export async function GET(request: Request) {
  const token = process.env.INDEXDECK_METRICS_TOKEN;
  if (!token) return new Response("metrics are disabled: set INDEXDECK_METRICS_TOKEN\n", { status: 404 });
  const given = Buffer.from(request.headers.get("authorization")?.replace(/^Bearer /, "") ?? "");
  const expected = Buffer.from(token);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return new Response("bad or missing bearer token\n", { status: 401 });
  return new Response(await metricsText(storePool()), { headers: { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" } });
}
