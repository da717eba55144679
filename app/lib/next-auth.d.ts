import type { Role } from "@/lib/auth/policy";

declare module "next-auth" {
  interface Session {
    user?: { name?: string | null; email?: string | null; image?: string | null; role?: Role; id?: number };
  }
}
