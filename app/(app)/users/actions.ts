"use server";

import { revalidatePath } from "next/cache";
import * as z from "zod";
import { changeUser } from "@/lib/auth/manage";
import { generatePassword } from "@/lib/auth/password";
import { ROLES } from "@/lib/auth/policy";
import { storePool } from "@/lib/store/pool";
import { formAction, type ActionState } from "@/app/lib/action";

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
export async function manageUserAction(_prev: ActionState, form: FormData): Promise<ActionState> {
  return formAction(form, {
    schema: Form,
    permission: "users:manage",
    context: "changing a user",
    run: async (input, actor) => {
      const { email } = input;
      const password = input.op === "reset-password" ? generatePassword() : undefined;
      const change = input.op === "reset-password" ? { op: input.op, password: password! } : input;
      const user = await changeUser(storePool(), email, change, actor);
      revalidatePath("/users");
      const done = {
        disable: `disabled ${email}`,
        enable: `enabled ${email}`,
        "set-role": `${email} is now ${user.role}`,
        "reset-password": `new password for ${email}`,
      };
      return { message: done[input.op], secret: password };
    },
  });
}
