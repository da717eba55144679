"use server";

import { revalidatePath } from "next/cache";
import * as z from "zod";
import { storePool } from "@/lib/store/pool";
import { approvePolicyChange, changePolicy, PolicyApproval, PolicyChange } from "@/lib/targets/policies";
import { parseFreezes, parseWindows } from "@/lib/targets/policy-text";
import { formAction, type ActionState } from "@/app/lib/action";
import { fileTargets } from "@/lib/targets/source";

/**
 * The policy form as a PolicyChange: the windows and freezes are text, a line each, and every bad
 * line is a refused field of its own (named by field and line), so nothing is saved unless all is valid.
 */
const Form = z
  .object({
    targetId: z.string().min(1).max(63),
    basedOn: z.coerce.number().int().min(0),
    required: z.coerce.number().pipe(z.union([z.literal(0), z.literal(1), z.literal(2)])),
    windows: z.string().max(10_000, "maintenance windows: more than 10,000 characters").default(""),
    freezes: z.string().max(10_000, "freezes: more than 10,000 characters").default(""),
    reason: z.string().default(""),
    roles: z.array(z.string()),
    requesterMayApprove: z.literal("on").optional(),
  })
  .transform((form, ctx) => {
    const windows = parseWindows(form.windows);
    const freezes = parseFreezes(form.freezes);
    for (const message of [...(windows.ok ? [] : windows.errors), ...(freezes.ok ? [] : freezes.errors)])
      ctx.addIssue({ code: "custom", message, path: [] });
    const change = PolicyChange.safeParse({
      targetId: form.targetId,
      basedOn: form.basedOn,
      reason: form.reason,
      policy: {
        approvals: { required: form.required, roles: form.roles, requesterMayApprove: form.requesterMayApprove === "on" },
        maintenanceWindows: windows.ok ? windows.value : [],
        freezes: freezes.ok ? freezes.value : [],
      },
    });
    if (!change.success) for (const issue of change.error.issues) ctx.addIssue({ ...issue, code: "custom" });
    return change.success && windows.ok && freezes.ok ? change.data : z.NEVER;
  });

/** The policy form of a target page: admin only; every problem named by field and line; nothing saved unless all of it is valid. */
export async function changePolicyAction(_prev: ActionState, form: FormData): Promise<ActionState> {
  return formAction(form, {
    schema: Form,
    permission: "policy:manage",
    context: "saving the policy",
    lists: ["roles"],
    run: async (change, actor) => {
      const v = await changePolicy(storePool(), fileTargets(), actor, change);
      revalidatePath(`/targets/${v.targetId}`);
      return `saved version ${v.version} of the ${v.targetId} policy${v.needsApproval ? "; it governs once another admin approves it" : ""}`;
    },
  });
}

const ApprovalForm = PolicyApproval.extend({ version: z.coerce.number().int().positive() });

/** A second admin puts a pending production policy version in force. */
export async function approvePolicyAction(_prev: ActionState, form: FormData): Promise<ActionState> {
  return formAction(form, {
    schema: ApprovalForm,
    permission: "policy:manage",
    context: "approving the policy",
    run: async (approval, actor) => {
      const v = await approvePolicyChange(storePool(), fileTargets(), actor, approval);
      revalidatePath(`/targets/${v.targetId}`);
      return `version ${v.version} of the ${v.targetId} policy is in force`;
    },
  });
}
