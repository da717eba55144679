import { NextRequest, NextResponse, type NextFetchEvent } from "next/server";
import { withAuth, type NextRequestWithAuth } from "next-auth/middleware";
import { API_CSP, hsts, newNonce, pageCsp } from "@/lib/web/headers";

// Sends a browser without a session to the login page, with the page it asked for to come back to.
// It decides nothing else: what each role may do is decided by lib/auth/policy in every page, action
// and route handler (lib/auth/app-guard.test.ts fails on one that doesn't ask).
const sessionGate = withAuth((request) => NextResponse.next({ request: { headers: request.headers } }), { pages: { signIn: "/login" } });

/**
 * Every page and API response leaves with its Content-Security-Policy (a page's carries a nonce made
 * for it, which Next.js reads from the request's CSP header and puts on its scripts) and, over https,
 * HSTS; next.config.js adds the headers that never vary. API calls skip the session gate: they answer
 * 401/403 themselves, as JSON for scripts rather than a redirect (and it would cost about 1 ms of CPU
 * each, measured).
 */
export async function proxy(request: NextRequest, event: NextFetchEvent) {
  const api = request.nextUrl.pathname.startsWith("/api/");
  const csp = api ? API_CSP : pageCsp(newNonce(), process.env.NODE_ENV === "development");
  let response: Response;
  if (api) {
    response = NextResponse.next();
  } else {
    const headers = new Headers(request.headers);
    headers.set("content-security-policy", csp);
    const forwarded = new NextRequest(request, { headers });
    // The login page and next-auth's own paths pass the gate untouched (it returns nothing for them).
    response = (await sessionGate(forwarded as NextRequestWithAuth, event)) ?? NextResponse.next({ request: { headers } });
  }
  response.headers.set("Content-Security-Policy", csp);
  const strict = hsts();
  if (strict) response.headers.set("Strict-Transport-Security", strict);
  return response;
}

export const config = {
  // /api/metrics carries a bearer token instead of a session; it gets its headers like any API call.
  matcher: ["/((?!_next/static|_next/image|favicon.ico).*)"],
};
