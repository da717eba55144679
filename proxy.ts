import { withAuth } from "next-auth/middleware";

// The gate only checks that a session exists; what each role may do is decided by lib/auth/policy
// in every page, action and route handler behind it.
export const proxy = withAuth({ pages: { signIn: "/login" } });

export const config = {
  // /api/metrics is for Prometheus, which carries a bearer token instead of a session.
  matcher: ["/((?!login|api/auth|api/metrics|_next/static|_next/image|favicon.ico).*)"],
};
