import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { z } from "zod";
import { authenticate } from "@/lib/auth/users";
import { isRole } from "@/lib/auth/policy";
import { storePool } from "@/lib/store/pool";
import { usesHttps } from "@/lib/web/headers";

const Credentials = z.object({ username: z.string().min(1).max(254), password: z.string().min(1).max(1024) });

export const authOptions: NextAuthOptions = {
  session: { strategy: "jwt", maxAge: 12 * 60 * 60 },
  pages: { signIn: "/login" },
  // Secure (and __Secure-/__Host- prefixed) cookies whenever the public URL is https, said here rather
  // than left to next-auth's default so that app/lib/session.ts and this agree by construction.
  useSecureCookies: usesHttps(),
  providers: [
    CredentialsProvider({
      name: "indexdeck",
      credentials: { username: { label: "Login", type: "text" }, password: { label: "Password", type: "password" } },
      async authorize(raw) {
        const parsed = Credentials.safeParse(raw);
        if (!parsed.success) return null;
        const result = await authenticate(storePool(), parsed.data.username, parsed.data.password);
        if (!result.ok) return null;
        return { id: String(result.actor.id), email: result.actor.email, name: result.actor.email, role: result.actor.role };
      },
    }),
  ],
  callbacks: {
    jwt({ token, user }) {
      if (user) {
        token.role = (user as { role?: string }).role;
        token.uid = Number(user.id);
      }
      return token;
    },
    session({ session, token }) {
      if (session.user) {
        session.user.role = isRole(token.role) ? token.role : undefined;
        session.user.id = typeof token.uid === "number" ? token.uid : undefined;
      }
      return session;
    },
  },
};
