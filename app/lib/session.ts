import { decode } from "next-auth/jwt";
import { cookies, headers } from "next/headers";
import { redirect } from "next/navigation";
import { NextResponse } from "next/server";
import { cache } from "react";
import { can, type Action, type Actor } from "@/lib/auth/policy";
import {
  parseSessionClaims,
  sessionActor,
  sessionLifetimeMs,
  sessionUsers,
  type RevokedSessionUse,
  type SessionClaims,
} from "@/lib/auth/sessions";
import { apiTokens, bearerSecret, tokenVerdict } from "@/lib/auth/tokens";
import { storePool } from "@/lib/store/pool";
import { RefusalLog } from "@/lib/web/refusals";

// One per app server: refused requests (cross-site, bad tokens) reach the audit log at most once a minute per kind.
export const refusals = new RefusalLog(() => storePool());

// next-auth's cookie: prefixed on https, and split into .0, .1 … when it grows past 4 KB.
const SESSION_COOKIE = `${(process.env.NEXTAUTH_URL ?? "").startsWith("https://") ? "__Secure-" : ""}next-auth.session-token`;

/** Whether the request carries next-auth's session cookie (whole or in chunks), valid or not. */
async function hasSessionCookie(): Promise<boolean> {
  const jar = await cookies();
  return jar.getAll().some((c) => c.name === SESSION_COOKIE || c.name.startsWith(`${SESSION_COOKIE}.`));
}

// One per app server: a revoked session used reaches the audit log at most once a minute per user.
const revokedSessions = new RefusalLog<RevokedSessionUse>(() => storePool());

/** The session cookie's claims: decrypted and checked (signature, expiry) here, nothing more. */
async function sessionClaims(): Promise<SessionClaims | null> {
  const jar = await cookies();
  const whole = jar.get(SESSION_COOKIE)?.value;
  const chunks = jar
    .getAll()
    .filter((c) => c.name.startsWith(`${SESSION_COOKIE}.`))
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
 * session (or API token) still holds and its user may still do `action`.
 */
export async function sessionRecheck(action: Action): Promise<() => Promise<boolean>> {
  const authorization = (await headers()).get("authorization");
  const secret = authorization === null ? null : bearerSecret(authorization);
  if (secret) {
    return async () => {
      const verdict = await tokenVerdict(apiTokens(storePool()), secret);
      return "actor" in verdict && can(verdict.actor.role, action);
    };
  }
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

/**
 * Who calls a route handler: an API token (`Authorization: Bearer …`, for scripts and CI) or the
 * session cookie, never both at once (a browser holding a session that also sends someone's token
 * would act as whom? refused, 400). A refused token is a security event, audited in aggregate.
 * Once per request, like currentActor.
 */
const requestActor = cache(async (): Promise<Actor | NextResponse> => {
  const authorization = (await headers()).get("authorization");
  if (authorization === null) return (await currentActor()) ?? NextResponse.json({ error: "sign in first" }, { status: 401 });
  if (await hasSessionCookie()) {
    return NextResponse.json(
      { error: "the request carries both a session cookie and an Authorization header: send one or the other" },
      { status: 400 },
    );
  }
  const secret = bearerSecret(authorization);
  if (!secret)
    return NextResponse.json({ error: 'Authorization must be "Bearer idt_…", an API token (see /api/openapi.json)' }, { status: 401 });
  const verdict = await tokenVerdict(apiTokens(storePool()), secret);
  if ("actor" in verdict) return verdict.actor;
  refusals.note("token", { token: verdict.tokenId, reason: verdict.refused });
  const which =
    verdict.tokenId === null
      ? "the bearer token is not known"
      : `token ${verdict.tokenId} is ${verdict.refused === "owner disabled" ? "of a disabled user" : verdict.refused}`;
  return NextResponse.json({ error: which }, { status: 401 });
});

/** For route handlers: the actor (from a token or the session), or the 400/401/403 response to return instead. */
export async function apiActor(action: Action): Promise<Actor | NextResponse> {
  const actor = await requestActor();
  if (actor instanceof NextResponse) return actor;
  if (!can(actor.role, action)) {
    return NextResponse.json(
      { error: `role ${actor.role}${actor.via ? ` (token ${actor.via.tokenId})` : ""} may not ${action}` },
      { status: 403 },
    );
  }
  return actor;
}
