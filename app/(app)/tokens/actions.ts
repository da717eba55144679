"use server";

import { revalidatePath } from "next/cache";
import * as z from "zod";
import { createServiceUser, createToken, NewToken, revokeToken } from "@/lib/auth/tokens";
import { NewUser } from "@/lib/auth/users";
import { storePool } from "@/lib/store/pool";
import { formAction, type ActionState } from "@/app/lib/action";
import { fileTargets } from "@/lib/targets/source";

const CreateForm = NewToken.extend({
  // Blank: the signed-in person's own token.
  owner: z
    .string()
    .max(254)
    .optional()
    .transform((o) => o || undefined),
  // Target ids separated by commas or spaces; none for a token that may act on every target.
  targets: z
    .string()
    .max(7000)
    .default("")
    .transform((t): string[] | undefined => t.split(/[\s,]+/).filter(Boolean))
    .pipe(NewToken.shape.targets),
});

/** A new API token, for the signed-in user (or, by an admin, for a service user); the secret is returned once. */
export async function createTokenAction(_prev: ActionState, form: FormData): Promise<ActionState> {
  return formAction(form, {
    schema: CreateForm,
    // Anyone signed in makes tokens for themselves; createToken refuses other owners but an admin's service users.
    permission: "own",
    context: "creating the token",
    run: async ({ owner, targets, ...token }, actor) => {
      const created = await createToken(
        storePool(),
        owner ?? actor.email,
        { ...token, targets: targets ?? undefined },
        actor,
        (await fileTargets()()).map((t) => t.id),
      );
      revalidatePath("/tokens");
      return {
        status: 201,
        message: `token ${created.token.id} (${created.token.name}) for ${created.token.owner}`,
        secret: created.secret,
      };
    },
  });
}

const RevokeForm = z.object({
  id: z.coerce.number("not a token number").int("not a token number").positive("not a token number").max(Number.MAX_SAFE_INTEGER),
});

/** Revokes one token: its owner's or, for an admin, anyone's. */
export async function revokeTokenAction(_prev: ActionState, form: FormData): Promise<ActionState> {
  return formAction(form, {
    schema: RevokeForm,
    // revokeToken refuses anyone's but the owner's and an admin's.
    permission: "own",
    context: "revoking the token",
    run: async ({ id }, actor) => {
      const token = await revokeToken(storePool(), id, actor);
      revalidatePath("/tokens");
      return `revoked token ${token.id} (${token.name})`;
    },
  });
}

/** A service user (admins): an account for scripts, with no password, that acts only through tokens. */
export async function createServiceUserAction(_prev: ActionState, form: FormData): Promise<ActionState> {
  return formAction(form, {
    schema: NewUser.pick({ email: true, role: true }),
    permission: "users:manage",
    context: "creating the service user",
    run: async (input, actor) => {
      const user = await createServiceUser(storePool(), input, actor);
      revalidatePath("/tokens");
      return { status: 201, message: `service user ${user.email} (${user.role}): now create a token for it` };
    },
  });
}
