import { redirect } from "next/navigation";
import type { z } from "zod";
import { authorize, type Action, type Actor } from "@/lib/auth/policy";
import { fieldErrors, refusalOf } from "@/app/lib/http";
import { currentActor } from "@/app/lib/session";

/** What every form's server action answers: the status it would have as HTTP, and a message or what was refused. */
export interface ActionState {
  status?: number;
  message?: string;
  /** Each refusal (every refused field and why, or lib's one reason). */
  errors?: string[];
  /** A secret shown once to whoever made it (a reset password, a new token). */
  secret?: string;
}

/** What a form's lib call answers: the message to show, where to go next, or a message with a status or a secret. */
type Outcome = string | { redirect: string } | { message: string; status?: number; secret?: string };

interface FormSpec<S extends z.ZodType> {
  schema: S;
  /**
   * The permission it needs; a function where it depends on the input (a phase's is its machine row's);
   * "own" where any signed-in person acts only on what is theirs, which lib itself checks.
   */
  permission: Action | ((input: z.output<S>) => Action) | "own";
  /** What it does, in the server log when it fails unexpectedly. */
  context: string;
  /** Fields read as lists (checkboxes of one name). */
  lists?: string[];
  /** Blank inputs count as not given (optional fields a form always sends). */
  omitBlank?: boolean;
  /** The lib call. */
  run: (input: z.output<S>, actor: Actor) => Promise<Outcome>;
  /**
   * For a form posted without client state (a plain `<form action>`): where a refusal goes instead of
   * being returned, as a URL that carries a code, never the text.
   */
  refusedTo?: (state: ActionState) => string;
}

/** The form as an object for zod, without Next's own `$ACTION…` fields. */
function formObject(form: FormData, lists: string[], omitBlank: boolean): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of form.entries()) {
    if (key.startsWith("$") || (omitBlank && value === "")) continue;
    fields[key] = lists.includes(key) ? form.getAll(key) : value;
  }
  for (const key of lists) fields[key] ??= [];
  return fields;
}

/**
 * The one skeleton of a form's server action: who asks (the session, never the form), the form parsed
 * with zod, the permission, then lib; one result shape. A refusal from lib keeps its reason and status
 * (refusalOf, as route handlers do); anything else is logged and hidden.
 */
export async function formAction<S extends z.ZodType>(form: FormData, spec: FormSpec<S>): Promise<ActionState> {
  const state = await settleForm(form, spec);
  // Outside any try: redirect() throws to tell Next where to go.
  if (spec.refusedTo && state.errors) redirect(spec.refusedTo(state));
  return state;
}

async function settleForm<S extends z.ZodType>(form: FormData, spec: FormSpec<S>): Promise<ActionState> {
  const actor = await currentActor();
  if (!actor) return { status: 401, errors: ["sign in first"] };
  const parsed = spec.schema.safeParse(formObject(form, spec.lists ?? [], spec.omitBlank ?? false));
  if (!parsed.success) return { status: 422, errors: fieldErrors(parsed.error) };
  let outcome: Outcome;
  try {
    const permission = typeof spec.permission === "function" ? spec.permission(parsed.data) : spec.permission;
    if (permission !== "own") authorize(actor, permission);
    outcome = await spec.run(parsed.data, actor);
  } catch (err) {
    const refused = refusalOf(err);
    if (refused) return { status: refused.status, errors: [refused.error] };
    console.error(`${spec.context} failed:`, err);
    return { status: 500, errors: [`${spec.context} failed; see the server log`] };
  }
  if (typeof outcome === "string") return { status: 200, message: outcome };
  if ("redirect" in outcome) redirect(outcome.redirect);
  return { status: 200, ...outcome };
}
