import { decode } from "next-auth/jwt";
import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { NextResponse } from "next/server";
import { cache } from "react";
import { can, isRole, type Action, type Actor } from "@/lib/auth/policy";

// next-auth's cookie: prefixed on https, and split into .0, .1 … when it grows past 4 KB.
const SESSION_COOKIE = `${(process.env.NEXTAUTH_URL ?? "").startsWith("https://") ? "__Secure-" : ""}next-auth.session-token`;

/**
 * The signed-in person, from the session cookie: decrypted and checked (signature, expiry) here
 * rather than through getServerSession, which runs the whole sign-in handler and re-encrypts a token
 * it cannot even send back from a page. Once per request: the layout and the page both ask.
 */
export const currentActor = cache(async (): Promise<Actor | null> => {
  const jar = await cookies();
  const whole = jar.get(SESSION_COOKIE)?.value;
  const chunks = jar.getAll().filter((c) => c.name.startsWith(`${SESSION_COOKIE}.`))
    .sort((a, b) => Number(a.name.slice(SESSION_COOKIE.length + 1)) - Number(b.name.slice(SESSION_COOKIE.length + 1)));
  const raw = whole ?? (chunks.length ? chunks.map((c) => c.value).join("") : null);
  const secret = process.env.NEXTAUTH_SECRET;
  if (!raw || !secret) return null;
  const token = await decode({ token: raw, secret }).catch(() => null);
  if (!token || typeof token.email !== "string" || !isRole(token.role) || typeof token.uid !== "number") return null;
  return { id: token.uid, email: token.email, role: token.role };
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
