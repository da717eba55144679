import { NextResponse } from "next/server";
import * as z from "zod";
import { AuditFilter, auditRows, csvHeader, csvLine, exportRecord } from "@/lib/audit/query";
import { storePool } from "@/lib/store/pool";
import { apiActor } from "@/app/lib/session";
import { invalid } from "@/app/lib/http";

export const dynamic = "force-dynamic";

const Query = AuditFilter.extend({ format: z.enum(["csv", "json"]).default("csv") });

/**
 * The audit log (filtered) as CSV or a JSON array, streamed page by page with every hash, so a
 * file exported today can be checked with `indexdeck audit verify --file` later.
 */
export async function GET(request: Request) {
  const actor = await apiActor("audit:export");
  if (actor instanceof NextResponse) return actor;
  const parsed = Query.safeParse(Object.fromEntries([...new URL(request.url).searchParams].filter(([, v]) => v !== "")));
  if (!parsed.success) return invalid(parsed.error, "query");
  const { format, ...filter } = parsed.data;
  const rows = auditRows(storePool(), filter);
  const encoder = new TextEncoder();
  let first = true;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(format === "csv" ? csvHeader() : "[\n"));
    },
    async pull(controller) {
      const next = await rows.next();
      if (next.done) {
        if (format === "json") controller.enqueue(encoder.encode("\n]\n"));
        controller.close();
        return;
      }
      const text = format === "csv" ? csvLine(next.value) : `${first ? "" : ",\n"}${JSON.stringify(exportRecord(next.value))}`;
      first = false;
      controller.enqueue(encoder.encode(text));
    },
    async cancel() {
      await rows.return(undefined);
    },
  });
  const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
  return new Response(stream, {
    headers: {
      "Content-Type": format === "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8",
      "Content-Disposition": `attachment; filename="indexdeck-audit-${stamp}.${format}"`,
      "Cache-Control": "no-store",
    },
  });
}
