"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { changeUser, UserChangeError } from "@/lib/auth/manage";
import { generatePassword } from "@/lib/auth/password";
import { can, ROLES } from "@/lib/auth/policy";
import { storePool } from "@/lib/store/pool";
import { currentActor } from "@/app/lib/session";

export interface UserFormState {
  status?: number;
  message?: string;
  errors?: string[];
  /** A reset password, shown once to the admin who reset it. */
  password?: string;
}

const Form = z.discriminatedUnion(
  "op",
  [
    z.object({ op: z.literal("disable"), email: z.string().min(1).max(254) }),
    z.object({ op: z.literal("enable"), email: z.string().min(1).max(254) }),
    z.object({
      op: z.literal("set-role"),
      email: z.string().min(1).max(254),
      role: z.enum(ROLES, { message: `role must be one of ${ROLES.join(", ")}` }),
    }),
    z.object({ op: z.literal("reset-password"), email: z.string().min(1).max(254) }),
  ],
  { message: "op must be one of disable, enable, set-role, reset-password" },
);

/** One admin change to one user (a row's buttons on the Users page): audited, ends the user's sessions. */
export async function manageUserAction(_prev: UserFormState, form: FormData): Promise<UserFormState> {
  const actor = await currentActor();
  if (!actor) return { status: 401, errors: ["sign in first"] };
  if (!can(actor.role, "users:manage")) return { status: 403, errors: [`role ${actor.role} may not manage users`] };
  const parsed = Form.safeParse({ op: form.get("op"), email: form.get("email"), role: form.get("role") ?? undefined });
  if (!parsed.success) return { status: 422, errors: parsed.error.issues.map((i) => `${i.path.join(".") || "form"}: ${i.message}`) };
  const { email } = parsed.data;
  const password = parsed.data.op === "reset-password" ? generatePassword() : undefined;
  const change = parsed.data.op === "reset-password" ? { op: parsed.data.op, password: password! } : parsed.data;
  try {
    const user = await changeUser(storePool(), email, change, actor);
    revalidatePath("/users");
    const done = {
      disable: `disabled ${email}`,
      enable: `enabled ${email}`,
      "set-role": `${email} is now ${user.role}`,
      "reset-password": `new password for ${email}`,
    };
    return { status: 200, message: done[parsed.data.op], password };
  } catch (err) {
    if (err instanceof UserChangeError) return { status: err.status, errors: [err.message] };
    console.error("user change failed:", err);
    return { status: 500, errors: ["could not change the user; see the server log"] };
  }
}
