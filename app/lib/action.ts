import { redirect } from "next/navigation";
import type { z } from "zod";
import { authorize, type Action, type Actor } from "@/lib/auth/policy";
import { fieldErrors, refusalOf } from "@/app/lib/http";
import { currentActor } from "@/app/lib/session";

/** What every form's server action answers: the status it would have as HTTP, and a message or an error. */
export interface ActionState {
  status?: number;
  message?: string;
  error?: string;
}

interface FormSpec<S extends z.ZodType> {
  schema: S;
  /** The permission it needs; a function where it depends on the input (a phase's is its machine row's). */
  permission: Action | ((input: z.output<S>) => Action);
  /** What it does, in the server log when it fails unexpectedly. */
  context: string;
  /** Fields read as lists (checkboxes of one name). */
  lists?: string[];
  /** Blank inputs count as not given (optional fields a form always sends). */
  omitBlank?: boolean;
  /** The lib call: returns the message to show, or where to go next. */
  run: (input: z.output<S>, actor: Actor) => Promise<string | { redirect: string }>;
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
  const actor = await currentActor();
  if (!actor) return { status: 401, error: "sign in first" };
  const parsed = spec.schema.safeParse(formObject(form, spec.lists ?? [], spec.omitBlank ?? false));
  if (!parsed.success) return { status: 422, error: fieldErrors(parsed.error).join("; ") };
  let outcome: string | { redirect: string };
  try {
    authorize(actor, typeof spec.permission === "function" ? spec.permission(parsed.data) : spec.permission);
    outcome = await spec.run(parsed.data, actor);
  } catch (err) {
    const refused = refusalOf(err);
    if (refused) return refused;
    console.error(`${spec.context} failed:`, err);
    return { status: 500, error: `${spec.context} failed; see the server log` };
  }
  // Outside the try: redirect() throws to tell Next where to go.
  if (typeof outcome !== "string") redirect(outcome.redirect);
  return { status: 200, message: outcome };
}
