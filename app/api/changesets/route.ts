import { NextResponse } from "next/server";
import { ChangeSetExistsError, createChangeSet, MAX_UPLOAD_BYTES, UploadChangeSet } from "@/lib/changeset/store";
import { storePool } from "@/lib/store/pool";
import { jsonRequest } from "@/app/lib/json-request";
import { MAX_WORKLOAD_BYTES, WorkloadError } from "@/lib/rollout/workloads";

export const dynamic = "force-dynamic";

// The SQL and the query patterns are capped by UploadChangeSet; JSON escapes every newline and quote
// in them, so the body around them may be up to about twice their sum.
const BODY_LIMIT = 2 * (MAX_UPLOAD_BYTES + MAX_WORKLOAD_BYTES);

/** Upload a change set (dba, sre, admin). Body: {"name": "...", "sql": "...", "workloads": "..." (optional query patterns)}. */
export async function POST(request: Request) {
  const input = await jsonRequest(request, "changeset:create", BODY_LIMIT);
  if (input instanceof NextResponse) return input;
  const { actor, body } = input;
  const parsed = UploadChangeSet.safeParse(body);
  if (!parsed.success) {
    return NextResponse.json({ error: "invalid change set", fields: parsed.error.issues.map((i) => i.message) }, { status: 422 });
  }
  try {
    const { changeSet, report } = await createChangeSet(storePool(), parsed.data, actor);
    return NextResponse.json({ id: changeSet.id, sha256: changeSet.sha256, findings: report.findings }, { status: 201 });
  } catch (err) {
    if (err instanceof ChangeSetExistsError) return NextResponse.json({ error: err.message }, { status: 409 });
    if (err instanceof WorkloadError) return NextResponse.json({ error: "invalid query patterns", fields: [err.message] }, { status: 422 });
    console.error("change set upload failed:", err);
    return NextResponse.json({ error: "could not store the change set; see the server log" }, { status: 500 });
  }
}
