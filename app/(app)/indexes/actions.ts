"use server";

import { redirect } from "next/navigation";
import { z } from "zod";
import { can } from "@/lib/auth/policy";
import { ChangeSetExistsError, createChangeSet } from "@/lib/changeset/catalog";
import { reportForTarget } from "@/lib/monitor/reports";
import { storePool } from "@/lib/store/pool";
import { findTarget, loadTargets } from "@/lib/targets/config";
import { currentActor } from "@/app/lib/session";

const DraftForm = z.object({ targetId: z.string().min(1).max(63), index: z.string().min(1).max(63) });

/**
 * Turns a report finding into a DROP INDEX CONCURRENTLY change set, which then goes through lint,
 * approval and rollout like any other. The SQL is rebuilt on the server from a fresh report; the
 * browser only names the target and the index.
 */
export async function draftDropAction(form: FormData): Promise<void> {
  const actor = await currentActor();
  if (!actor || !can(actor.role, "changeset:create")) redirect("/indexes?error=forbidden");
  const parsed = DraftForm.safeParse({ targetId: form.get("targetId"), index: form.get("index") });
  const target = parsed.success ? findTarget(loadTargets(), parsed.data.targetId) : undefined;
  if (!parsed.success || !target) redirect("/indexes?error=unknown-target");
  const report = await reportForTarget(target);
  const finding = [...report.unused, ...report.duplicate, ...report.invalid].find((f) => f.index === parsed.data.index);
  if (!finding) redirect(`/indexes?target=${target.id}&tab=reports&error=no-finding`);
  const name = `drop_${finding.index}_${new Date().toISOString().slice(0, 10).replace(/-/g, "")}.sql`.slice(0, 100);
  try {
    await createChangeSet(storePool(), { name, sql: finding.dropChangeSet }, actor);
  } catch (err) {
    if (!(err instanceof ChangeSetExistsError)) throw err;
  }
  redirect("/changesets");
}
