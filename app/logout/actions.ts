"use server";

import { changeUser } from "@/lib/auth/manage";
import { storePool } from "@/lib/store/pool";
import { currentActor } from "@/app/lib/session";

/** Ends every session of the signed-in user, in every browser (audited); the caller then signs out here. */
export async function logoutEverywhereAction(): Promise<{ ok: boolean; error?: string }> {
  const actor = await currentActor();
  if (!actor) return { ok: false, error: "sign in first" };
  await changeUser(storePool(), actor.email, { op: "logout-everywhere" }, actor);
  return { ok: true };
}
