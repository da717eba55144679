import { decode } from "next-auth/jwt";
import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { NextResponse } from "next/server";
import { cache } from "react";
import { can, type Action, type Actor } from "@/lib/auth/policy";
import { parseSessionClaims, sessionActor, sessionLifetimeMs, sessionUsers, type RevokedSessionUse, type SessionClaims } from "@/lib/auth/sessions";
import { storePool } from "@/lib/store/pool";
import { RefusalLog } from "@/lib/web/refusals";

// next-auth's cookie: prefixed on https, and split into .0, .1 … when it grows past 4 KB.
const SESSION_COOKIE = `${(process.env.NEXTAUTH_URL ?? "").startsWith("https://") ? "__Secure-" : ""}next-auth.session-token`;

// One per app server: a revoked session used reaches the audit log at most once a minute per user.
const revokedSessions = new RefusalLog<RevokedSessionUse>(() => storePool());

/** The session cookie's claims: decrypted and checked (signature, expiry) here, nothing more. */
async function sessionClaims(): Promise<SessionClaims | null> {
  const jar = await cookies();
  const whole = jar.get(SESSION_COOKIE)?.value;
  const chunks = jar.getAll().filter((c) => c.name.startsWith(`${SESSION_COOKIE}.`))
    .sort((a, b) => Number(a.name.slice(SESSION_COOKIE.length + 1)) - Number(b.name.slice(SESSION_COOKIE.length + 1)));
  const raw = whole ?? (chunks.length ? chunks.map((c) => c.value).join("") : null);
  const secret = process.env.NEXTAUTH_SECRET;
  if (!raw || !secret) return null;
  // A cookie from before session versions decodes but has no claims: refused, so its owner signs in again.
  return parseSessionClaims(await decode({ token: raw, secret }).catch(() => null));
}

/**
 * The signed-in person as the store sees them now: the cookie only says who signed in, under which
 * session version and when; the login, the role and whether the session still holds come from
 * lib/auth/sessions (cached for seconds per server), rather than through getServerSession, which
 * runs the whole sign-in handler and re-encrypts a token it cannot even send back from a page.
 * Once per request: the layout and the page both ask.
 */
export const currentActor = cache(async (): Promise<Actor | null> => {
  const claims = await sessionClaims();
  return claims ? sessionActor(sessionUsers(storePool()), claims, sessionLifetimeMs(), revokedSessions) : null;
});

/**
 * For long responses (the event stream): a check to call again later, true while this request's
 * session still holds and its user may still do `action`.
 */
export async function sessionRecheck(action: Action): Promise<() => Promise<boolean>> {
  const claims = await sessionClaims();
  return async () => {
    const actor = claims ? await sessionActor(sessionUsers(storePool()), claims, sessionLifetimeMs(), revokedSessions) : null;
    return can(actor?.role, action);
  };
}

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
