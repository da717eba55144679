import { NextResponse } from "next/server";
import { ChangeSetExistsError, createChangeSet, UploadChangeSet } from "@/lib/changeset/catalog";
import { storePool } from "@/lib/store/pool";
import { apiActor } from "@/app/lib/session";

export const dynamic = "force-dynamic";

/** Upload a change set (dba, sre, admin). Body: {"name": "...", "sql": "..."}. */
export async function POST(request: Request) {
  const actor = await apiActor("changeset:create");
  if (actor instanceof NextResponse) return actor;
  const body = await request.json().catch(() => null);
  const parsed = UploadChangeSet.safeParse(body);
  if (!parsed.success) {
    return NextResponse.json({ error: "invalid change set", fields: parsed.error.issues.map((i) => i.message) }, { status: 422 });
  }
  try {
    const { changeSet, report } = await createChangeSet(storePool(), parsed.data, actor);
    return NextResponse.json({ id: changeSet.id, sha256: changeSet.sha256, findings: report.findings }, { status: 201 });
  } catch (err) {
    if (err instanceof ChangeSetExistsError) return NextResponse.json({ error: err.message }, { status: 409 });
    console.error("change set upload failed:", err);
    return NextResponse.json({ error: "could not store the change set; see the server log" }, { status: 500 });
  }
}
