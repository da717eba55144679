import { getServerSession } from "next-auth";
import { redirect } from "next/navigation";
import { NextResponse } from "next/server";
import { cache } from "react";
import { can, type Action, type Actor } from "@/lib/auth/policy";
import { authOptions } from "./auth-options";

// Once per request: the layout and the page both ask, and each session read decrypts the cookie.
export const currentActor = cache(async (): Promise<Actor | null> => {
  const session = await getServerSession(authOptions);
  const u = session?.user;
  if (!u?.email || !u.role || typeof u.id !== "number") return null;
  return { id: u.id, email: u.email, role: u.role };
});

/** For pages: the signed-in actor, or a redirect to login; `allowed` says whether the role may. */
export async function pageActor(action: Action): Promise<{ actor: Actor; allowed: boolean }> {
  const actor = await currentActor();
  if (!actor) redirect("/login");
  return { actor, allowed: can(actor.role, action) };
}

/** For route handlers: the actor, or the 401/403 response to return instead. */
export async function apiActor(action: Action): Promise<Actor | NextResponse> {
  const actor = await currentActor();
  if (!actor) return NextResponse.json({ error: "sign in first" }, { status: 401 });
  if (!can(actor.role, action)) return NextResponse.json({ error: `role ${actor.role} may not ${action}` }, { status: 403 });
  return actor;
}
