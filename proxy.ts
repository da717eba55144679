import { withAuth } from "next-auth/middleware";

// Sends a browser without a session to the login page, with the page it asked for to come back to.
// It decides nothing else: what each role may do is decided by lib/auth/policy in every page, action
// and route handler (lib/auth/app-guard.test.ts fails on one that doesn't ask).
export const proxy = withAuth({ pages: { signIn: "/login" } });

export const config = {
  // API routes answer 401/403 themselves, as JSON for scripts rather than a redirect to a login page;
  // the proxy would only add its cost to every call (about 1 ms of CPU each, measured).
  // /api/metrics carries a bearer token instead of a session.
  matcher: ["/((?!login|api/|_next/static|_next/image|favicon.ico).*)"],
};
