"use server";

import * as z from "zod";
import { changeUser } from "@/lib/auth/manage";
import { storePool } from "@/lib/store/pool";
import { formAction, type ActionState } from "@/app/lib/action";

/**
 * Ends every session of the signed-in user, in every browser (audited). Called from a click rather
 * than posted as a form: on success the browser must then sign itself out through next-auth's
 * client (signOut), which only client code can do.
 */
export async function logoutEverywhereAction(form: FormData): Promise<ActionState> {
  return formAction(form, {
    schema: z.object({}),
    // Everyone may end their own sessions.
    permission: "own",
    context: "logging out everywhere",
    run: async (_input, actor) => {
      await changeUser(storePool(), actor.email, { op: "logout-everywhere" }, actor);
      return "logged out everywhere";
    },
  });
}
