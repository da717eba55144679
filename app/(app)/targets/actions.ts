"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { can } from "@/lib/auth/policy";
import { storePool } from "@/lib/store/pool";
import { loadTargets } from "@/lib/targets/config";
import { approvePolicyChange, changePolicy, PolicyApproval, PolicyChange, PolicyError } from "@/lib/targets/policies";
import { parseFreezes, parseWindows } from "@/lib/targets/policy-text";
import { currentActor } from "@/app/lib/session";

export interface PolicyFormState {
  status?: number;
  message?: string;
  errors?: string[];
}

const Form = z.object({
  targetId: z.string().min(1).max(63),
  basedOn: z.coerce.number().int().min(0),
  required: z.coerce.number().pipe(z.union([z.literal(0), z.literal(1), z.literal(2)])),
  windows: z.string().max(10_000, "maintenance windows: more than 10,000 characters"),
  freezes: z.string().max(10_000, "freezes: more than 10,000 characters"),
  reason: z.string(),
});

/** The policy form of a target page: admin only; every problem named by field and line; nothing saved unless all of it is valid. */
export async function changePolicyAction(_prev: PolicyFormState, form: FormData): Promise<PolicyFormState> {
  const actor = await currentActor();
  if (!actor) return { status: 401, errors: ["sign in first"] };
  if (!can(actor.role, "policy:manage")) return { status: 403, errors: [`role ${actor.role} may not change target policies`] };
  const raw = Form.safeParse({
    targetId: form.get("targetId"),
    basedOn: form.get("basedOn"),
    required: form.get("required"),
    windows: form.get("windows") ?? "",
    freezes: form.get("freezes") ?? "",
    reason: form.get("reason") ?? "",
  });
  if (!raw.success) return { status: 422, errors: raw.error.issues.map((i) => `${i.path.join(".") || "form"}: ${i.message}`) };
  const windows = parseWindows(raw.data.windows);
  const freezes = parseFreezes(raw.data.freezes);
  const errors = [...(windows.ok ? [] : windows.errors), ...(freezes.ok ? [] : freezes.errors)];
  const roles = form.getAll("roles").map(String);
  const change = PolicyChange.safeParse({
    targetId: raw.data.targetId,
    basedOn: raw.data.basedOn,
    reason: raw.data.reason,
    policy: {
      approvals: { required: raw.data.required, roles, requesterMayApprove: form.get("requesterMayApprove") === "on" },
      maintenanceWindows: windows.ok ? windows.value : [],
      freezes: freezes.ok ? freezes.value : [],
    },
  });
  if (!change.success) errors.push(...change.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
  if (errors.length || !change.success) return { status: 422, errors };
  try {
    const v = await changePolicy(storePool(), loadTargets(), actor, change.data);
    revalidatePath(`/targets/${v.targetId}`);
    return {
      status: 200,
      message: `saved version ${v.version} of the ${v.targetId} policy${v.needsApproval ? "; it governs once another admin approves it" : ""}`,
    };
  } catch (err) {
    if (err instanceof PolicyError) return { status: err.status, errors: [err.message] };
    console.error("policy change failed:", err);
    return { status: 500, errors: ["could not save the policy; see the server log"] };
  }
}

/** A second admin puts a pending production policy version in force. */
export async function approvePolicyAction(_prev: PolicyFormState, form: FormData): Promise<PolicyFormState> {
  const actor = await currentActor();
  if (!actor) return { status: 401, errors: ["sign in first"] };
  if (!can(actor.role, "policy:manage")) return { status: 403, errors: [`role ${actor.role} may not approve target policies`] };
  const parsed = PolicyApproval.safeParse({ targetId: form.get("targetId"), version: Number(form.get("version")) });
  if (!parsed.success) return { status: 422, errors: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`) };
  try {
    const v = await approvePolicyChange(storePool(), loadTargets(), actor, parsed.data);
    revalidatePath(`/targets/${v.targetId}`);
    return { status: 200, message: `version ${v.version} of the ${v.targetId} policy is in force` };
  } catch (err) {
    if (err instanceof PolicyError) return { status: err.status, errors: [err.message] };
    console.error("policy approval failed:", err);
    return { status: 500, errors: ["could not approve the policy; see the server log"] };
  }
}
