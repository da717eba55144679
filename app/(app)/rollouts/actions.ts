"use server";

import { revalidatePath } from "next/cache";
import * as z from "zod";
import { ApprovalInput, decideRollout } from "@/lib/rollout/approvals";
import { MACHINE, PhaseInput, PHASES, requestPhase } from "@/lib/rollout/machine";
import { createRollout, getRollout, rolloutTasks } from "@/lib/rollout/rollouts";
import { ChangeSetExistsError, createChangeSet } from "@/lib/changeset/store";
import { quoteQualified } from "@/lib/sql/quote";
import { signOff, SignoffInput } from "@/lib/rollout/signoff";
import { storePool } from "@/lib/store/pool";
import { formAction, type ActionState } from "@/app/lib/action";
import { RolloutId } from "@/app/lib/http";
import { governingTargets } from "@/lib/targets/source";

const CreateForm = z.object({
  changesetId: z.string().min(1, "choose a change set").max(200),
  targetId: z.string().min(1, "choose a target").max(63),
});

export async function createRolloutAction(_prev: ActionState, form: FormData): Promise<ActionState> {
  return formAction(form, {
    schema: CreateForm,
    permission: "rollout:create",
    context: "creating a rollout",
    run: async (input, actor) => ({
      redirect: `/rollouts/${(await createRollout(storePool(), governingTargets(storePool()), input, actor)).id}`,
    }),
  });
}

const PhaseForm = PhaseInput.extend({ rolloutId: RolloutId, phase: z.enum(PHASES) });

/** The rollout page's buttons: queue the phase and return at once (the job runner does the work). */
export async function phaseAction(_prev: ActionState, form: FormData): Promise<ActionState> {
  return formAction(form, {
    schema: PhaseForm,
    permission: ({ phase }) => MACHINE[phase].permission,
    context: "starting a phase",
    omitBlank: true,
    run: async ({ rolloutId, phase, ...input }, actor) => {
      const { message } = await requestPhase(storePool(), rolloutId, phase, actor, input, governingTargets(storePool()));
      revalidatePath(`/rollouts/${rolloutId}`);
      return message;
    },
  });
}

const ApprovalForm = ApprovalInput.extend({ rolloutId: RolloutId });

export async function approvalAction(_prev: ActionState, form: FormData): Promise<ActionState> {
  return formAction(form, {
    schema: ApprovalForm,
    permission: "rollout:approve",
    context: "recording an approval",
    run: async ({ rolloutId, ...input }, actor) => {
      const { message } = await decideRollout(storePool(), governingTargets(storePool()), rolloutId, actor, input);
      revalidatePath(`/rollouts/${rolloutId}`);
      return message;
    },
  });
}

const SignoffForm = SignoffInput.extend({ rolloutId: RolloutId });

export async function signoffAction(_prev: ActionState, form: FormData): Promise<ActionState> {
  return formAction(form, {
    schema: SignoffForm,
    permission: "rollout:signoff",
    context: "recording a sign-off",
    lists: ["attested"],
    run: async ({ rolloutId, ...input }, actor) => {
      const s = await signOff(storePool(), rolloutId, actor, input);
      revalidatePath(`/rollouts/${rolloutId}`);
      return `recorded sign-off #${s.id} (${s.decision}); audit hash ${s.auditHash.slice(0, 12)}…`;
    },
  });
}

/**
 * The planner ignored a new index: offer ANALYZE of the tables the rollout indexed, as a change set
 * of its own (linted, approved and rolled out like any other). Built on the server from the rollout.
 * A plain form on the rollout page whose every outcome is a page to go to, as draftDropAction's.
 */
export async function draftAnalyzeAction(form: FormData): Promise<void> {
  await formAction(form, {
    schema: z.object({ rolloutId: RolloutId }),
    permission: "changeset:create",
    context: "drafting an ANALYZE change set",
    refusedTo: () => "/rollouts",
    run: async ({ rolloutId }, actor) => {
      const rollout = await getRollout(storePool(), rolloutId);
      if (!rollout) return { redirect: "/rollouts" };
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
      return { redirect: "/changesets" };
    },
  });
}
