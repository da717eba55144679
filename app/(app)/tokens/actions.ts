"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { can } from "@/lib/auth/policy";
import { createServiceUser, createToken, NewToken, revokeToken, TokenError } from "@/lib/auth/tokens";
import { NewUser } from "@/lib/auth/users";
import { storePool } from "@/lib/store/pool";
import { loadTargets } from "@/lib/targets/config";
import { currentActor } from "@/app/lib/session";

export interface TokenFormState {
  status?: number;
  message?: string;
  errors?: string[];
  /** A new token's secret, shown once to whoever created it. */
  secret?: string;
}

const fieldErrors = (error: z.ZodError) => error.issues.map((i) => `${i.path.join(".") || "form"}: ${i.message}`);

function failed(err: unknown, what: string): TokenFormState {
  if (err instanceof TokenError) return { status: err.status, errors: [err.message] };
  if (err instanceof z.ZodError) return { status: 422, errors: fieldErrors(err) };
  console.error(`${what} failed:`, err);
  return { status: 500, errors: [`${what} failed; see the server log`] };
}

const CreateForm = NewToken.omit({ targets: true }).extend({
  owner: z.string().min(1).max(254).optional(),
  // Target ids separated by commas or spaces; none for a token that may act on every target.
  targets: z.string().max(7000).optional(),
});

/** A new API token, for the signed-in user (or, by an admin, for a service user); the secret is returned once. */
export async function createTokenAction(_prev: TokenFormState, form: FormData): Promise<TokenFormState> {
  const actor = await currentActor();
  if (!actor) return { status: 401, errors: ["sign in first"] };
  const parsed = CreateForm.safeParse({
    name: form.get("name"),
    role: form.get("role"),
    days: form.get("days"),
    targets: form.get("targets") ?? undefined,
    owner: form.get("owner") || undefined,
  });
  if (!parsed.success) return { status: 422, errors: fieldErrors(parsed.error) };
  const { owner, targets, ...token } = parsed.data;
  try {
    const created = await createToken(
      storePool(),
      owner ?? actor.email,
      { ...token, targets: (targets ?? "").split(/[\s,]+/).filter(Boolean) },
      actor,
      loadTargets().map((t) => t.id),
    );
    revalidatePath("/tokens");
    return { status: 201, message: `token ${created.token.id} (${created.token.name}) for ${created.token.owner}`, secret: created.secret };
  } catch (err) {
    return failed(err, "creating the token");
  }
}

/** Revokes one token: its owner's or, for an admin, anyone's. */
export async function revokeTokenAction(_prev: TokenFormState, form: FormData): Promise<TokenFormState> {
  const actor = await currentActor();
  if (!actor) return { status: 401, errors: ["sign in first"] };
  const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).safeParse(form.get("id"));
  if (!id.success) return { status: 422, errors: ["id: not a token number"] };
  try {
    const token = await revokeToken(storePool(), id.data, actor);
    revalidatePath("/tokens");
    return { status: 200, message: `revoked token ${token.id} (${token.name})` };
  } catch (err) {
    return failed(err, "revoking the token");
  }
}

/** A service user (admins): an account for scripts, with no password, that acts only through tokens. */
export async function createServiceUserAction(_prev: TokenFormState, form: FormData): Promise<TokenFormState> {
  const actor = await currentActor();
  if (!actor) return { status: 401, errors: ["sign in first"] };
  if (!can(actor.role, "users:manage")) return { status: 403, errors: [`role ${actor.role} may not create service users`] };
  const parsed = NewUser.pick({ email: true, role: true }).safeParse({ email: form.get("email"), role: form.get("role") });
  if (!parsed.success) return { status: 422, errors: fieldErrors(parsed.error) };
  try {
    const user = await createServiceUser(storePool(), parsed.data, actor);
    revalidatePath("/tokens");
    return { status: 201, message: `service user ${user.email} (${user.role}): now create a token for it` };
  } catch (err) {
    return failed(err, "creating the service user");
  }
}
