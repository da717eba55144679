"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { can } from "@/lib/auth/policy";
import { ApprovalInput, decideRollout } from "@/lib/rollout/approvals";
import { PHASE_PERMISSION, PhaseInput, PHASES, requestPhase } from "@/lib/rollout/phases";
import { createRollout, getRollout, RolloutError, rolloutTasks } from "@/lib/rollout/rollouts";
import { ChangeSetExistsError, createChangeSet } from "@/lib/changeset/catalog";
import { quoteQualified } from "@/lib/sql/quote";
import { signOff, SignoffInput } from "@/lib/rollout/signoff";
import { storePool } from "@/lib/store/pool";
import { targetsWithPolicies } from "@/lib/targets/policies";
import { currentActor } from "@/app/lib/session";

export interface ActionState {
  status?: number;
  message?: string;
  error?: string;
}

const CreateForm = z.object({
  changesetId: z.string().min(1, "choose a change set").max(200),
  targetId: z.string().min(1, "choose a target").max(63),
});

export async function createRolloutAction(_prev: ActionState, form: FormData): Promise<ActionState> {
  const actor = await currentActor();
  if (!actor) return { status: 401, error: "sign in first" };
  if (!can(actor.role, "rollout:create")) return { status: 403, error: `role ${actor.role} may not create rollouts` };
  const parsed = CreateForm.safeParse({ changesetId: form.get("changesetId"), targetId: form.get("targetId") });
  if (!parsed.success) return { status: 422, error: parsed.error.issues.map((i) => i.message).join("; ") };
  let id: number;
  try {
    id = (await createRollout(storePool(), await targetsWithPolicies(storePool()), parsed.data, actor)).id;
  } catch (err) {
    if (err instanceof RolloutError) return { status: err.status, error: err.message };
    console.error("create rollout failed:", err);
    return { status: 500, error: "could not create the rollout; see the server log" };
  }
  redirect(`/rollouts/${id}`);
}

const PhaseForm = PhaseInput.extend({ rolloutId: z.coerce.number().int().positive(), phase: z.enum(PHASES) });

/** The rollout page's buttons: authorize, queue the phase, return at once (the job runner does the work). */
export async function phaseAction(_prev: ActionState, form: FormData): Promise<ActionState> {
  const actor = await currentActor();
  if (!actor) return { status: 401, error: "sign in first" };
  const raw = Object.fromEntries([...form.entries()].filter(([k, v]) => !k.startsWith("$") && v !== ""));
  const parsed = PhaseForm.safeParse(raw);
  if (!parsed.success) return { status: 422, error: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") };
  const { rolloutId, phase, ...input } = parsed.data;
  if (!can(actor.role, PHASE_PERMISSION[phase])) return { status: 403, error: `role ${actor.role} may not ${phase} rollouts` };
  try {
    const { message } = await requestPhase(storePool(), rolloutId, phase, actor, input);
    revalidatePath(`/rollouts/${rolloutId}`);
    return { status: 202, message };
  } catch (err) {
    if (err instanceof RolloutError) return { status: err.status, error: err.message };
    console.error(`${phase} of rollout ${rolloutId} failed:`, err);
    return { status: 500, error: `${phase} could not be started; see the server log` };
  }
}

const ApprovalForm = ApprovalInput.extend({ rolloutId: z.coerce.number().int().positive() });

export async function approvalAction(_prev: ActionState, form: FormData): Promise<ActionState> {
  const actor = await currentActor();
  if (!actor) return { status: 401, error: "sign in first" };
  if (!can(actor.role, "rollout:approve")) return { status: 403, error: `role ${actor.role} may not approve rollouts` };
  const parsed = ApprovalForm.safeParse(Object.fromEntries([...form.entries()].filter(([k]) => !k.startsWith("$"))));
  if (!parsed.success) return { status: 422, error: parsed.error.issues.map((i) => i.message).join("; ") };
  const { rolloutId, ...input } = parsed.data;
  try {
    const { message } = await decideRollout(storePool(), await targetsWithPolicies(storePool()), rolloutId, actor, input);
    revalidatePath(`/rollouts/${rolloutId}`);
    return { status: 200, message };
  } catch (err) {
    if (err instanceof RolloutError) return { status: err.status, error: err.message };
    console.error(`approval of rollout ${rolloutId} failed:`, err);
    return { status: 500, error: "the decision could not be recorded; see the server log" };
  }
}

export async function signoffAction(_prev: ActionState, form: FormData): Promise<ActionState> {
  const actor = await currentActor();
  if (!actor) return { status: 401, error: "sign in first" };
  if (!can(actor.role, "rollout:signoff")) return { status: 403, error: `role ${actor.role} may not sign off rollouts` };
  const rolloutId = z.coerce.number().int().positive().safeParse(form.get("rolloutId"));
  const parsed = SignoffInput.safeParse({
    decision: form.get("decision"),
    notes: form.get("notes") ?? "",
    attested: form.getAll("attested"),
    changesetSha256: form.get("changesetSha256"),
  });
  if (!rolloutId.success || !parsed.success)
    return { status: 422, error: parsed.success ? "invalid rollout id" : parsed.error.issues.map((i) => i.message).join("; ") };
  try {
    const s = await signOff(storePool(), rolloutId.data, actor, parsed.data);
    revalidatePath(`/rollouts/${rolloutId.data}`);
    return { status: 200, message: `recorded sign-off #${s.id} (${s.decision}); audit hash ${s.auditHash.slice(0, 12)}…` };
  } catch (err) {
    if (err instanceof RolloutError) return { status: err.status, error: err.message };
    console.error(`sign-off of rollout ${rolloutId.data} failed:`, err);
    return { status: 500, error: "the sign-off could not be recorded; see the server log" };
  }
}

/**
 * The planner ignored a new index: offer ANALYZE of the tables the rollout indexed, as a change set
 * of its own (linted, approved and rolled out like any other). Built on the server from the rollout.
 */
export async function draftAnalyzeAction(form: FormData): Promise<void> {
  const actor = await currentActor();
  const id = z.coerce.number().int().positive().safeParse(form.get("rolloutId"));
  if (!actor || !can(actor.role, "changeset:create") || !id.success) redirect("/rollouts");
  const rollout = await getRollout(storePool(), id.data);
  if (!rollout) redirect("/rollouts");
  const tables = [
    ...new Set(
      (await rolloutTasks(storePool(), rollout.id))
        .filter((t) => t.kind === "create_index" && t.tableName)
        .map((t) => quoteQualified(t.schemaName, t.tableName!)),
    ),
  ];
  const sql = `-- Refresh planner statistics after rollout #${rollout.id} (${rollout.changesetName}): verify found a query not using its new index.\n${tables.map((t) => `ANALYZE ${t};`).join("\n")}\n`;
  try {
    await createChangeSet(storePool(), { name: `analyze_after_rollout_${rollout.id}.sql`, sql }, actor);
  } catch (err) {
    if (!(err instanceof ChangeSetExistsError)) throw err;
  }
  redirect("/changesets");
}
