import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import * as z from "zod";
import { clientAddress, trustedProxies } from "@/lib/auth/client-address";
import { sessionLifetimeMs } from "@/lib/auth/sessions";
import { authenticate } from "@/lib/auth/users";
import { storePool } from "@/lib/store/pool";
import { usesHttps } from "@/lib/web/headers";

const Credentials = z.object({ username: z.string().min(1).max(254), password: z.string().min(1).max(1024) });

// Checked at start by lib/serve/boot; read once here.
const LIFETIME_MS = sessionLifetimeMs();
const PROXIES = trustedProxies();

export const authOptions: NextAuthOptions = {
  // The cookie's own expiry is renewed on every session call; the lifetime that counts is the
  // sign-in time in the token, checked by currentActor (lib/auth/sessions).
  session: { strategy: "jwt", maxAge: Math.ceil(LIFETIME_MS / 1000) },
  pages: { signIn: "/login" },
  // Secure (and __Secure-/__Host- prefixed) cookies whenever the public URL is https, said here rather
  // than left to next-auth's default so that app/lib/session.ts and this agree by construction.
  useSecureCookies: usesHttps(),
  providers: [
    CredentialsProvider({
      name: "indexdeck",
      credentials: { username: { label: "Login", type: "text" }, password: { label: "Password", type: "password" } },
      async authorize(raw, req) {
        const parsed = Credentials.safeParse(raw);
        if (!parsed.success) return null;
        const client = clientAddress(req.headers ?? {}, PROXIES);
        const result = await authenticate(storePool(), parsed.data.username, parsed.data.password, client);
        if (!result.ok) return null;
        return { id: String(result.actor.id), email: result.actor.email, name: result.actor.email, sv: result.sessionVersion };
      },
    }),
  ],
  callbacks: {
    // Only who, under which session version, and when: the role is the store's (lib/auth/sessions).
    // Refreshes keep signedInAt, so they can't stretch a session past its lifetime.
    jwt({ token, user }) {
      if (user) {
        token.uid = Number(user.id);
        token.sv = (user as { sv?: number }).sv;
        token.signedInAt = Date.now();
      }
      return token;
    },
    session({ session, token }) {
      if (session.user) session.user.id = typeof token.uid === "number" ? token.uid : undefined;
      return session;
    },
  },
};
