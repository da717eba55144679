"use server";

import { redirect } from "next/navigation";
import { z } from "zod";
import { can } from "@/lib/auth/policy";
import { draftDropChangeSet, DraftRefusedError } from "@/lib/monitor/drop-draft";
import { storePool } from "@/lib/store/pool";
import { findTarget, loadTargets } from "@/lib/targets/config";
import { currentActor } from "@/app/lib/session";

// A catalog name is at most 63 bytes; the form carries it as the browser got it, CR, LF and all.
const DraftForm = z.object({ targetId: z.string().min(1).max(63), schema: z.string().min(1).max(63), index: z.string().min(1).max(63) });

/**
 * Turns a report finding into a DROP INDEX CONCURRENTLY change set (see draftDropChangeSet): the
 * browser only names the target, the schema and the index; the SQL is rebuilt on the server from a
 * fresh report and re-planned before it is stored.
 */
export async function draftDropAction(form: FormData): Promise<void> {
  const actor = await currentActor();
  if (!actor || !can(actor.role, "changeset:create")) redirect("/indexes?error=forbidden");
  const parsed = DraftForm.safeParse({ targetId: form.get("targetId"), schema: form.get("schema"), index: form.get("index") });
  const target = parsed.success ? findTarget(loadTargets(), parsed.data.targetId) : undefined;
  if (!parsed.success || !target) redirect("/indexes?error=unknown-target");
  let result;
  try {
    result = await draftDropChangeSet(storePool(), target, { schema: parsed.data.schema, name: parsed.data.index }, actor);
  } catch (err) {
    if (!(err instanceof DraftRefusedError)) throw err;
    // JSON, so a name's CR or LF cannot start a line of its own in the server's log.
    console.error(`[indexdeck] ${JSON.stringify(err.message)}`);
    redirect(`/indexes?target=${encodeURIComponent(target.id)}&tab=reports&error=draft-refused`);
  }
  const reports = `/indexes?target=${encodeURIComponent(target.id)}&tab=reports`;
  if (result.outcome === "no-finding") redirect(`${reports}&error=no-finding`);
  if (result.outcome === "kept") {
    console.error(`[indexdeck] ${JSON.stringify(`draft refused: ${parsed.data.schema}.${parsed.data.index} ${result.verdict.reason}`)}`);
    redirect(`${reports}&error=kept&schema=${encodeURIComponent(parsed.data.schema)}&index=${encodeURIComponent(parsed.data.index)}`);
  }
  redirect("/changesets");
}
