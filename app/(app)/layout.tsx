import Link from "next/link";
import { redirect } from "next/navigation";
import type { ReactNode } from "react";
import { can } from "@/lib/auth/policy";
import { NAV } from "@/app/lib/navigation";
import { currentActor } from "@/app/lib/session";

export const dynamic = "force-dynamic";

export default async function ShellLayout({ children }: { children: ReactNode }) {
  const actor = await currentActor();
  if (!actor) redirect("/login");
  return (
    <>
      <a href="#content" className="skip">
        Skip to content
      </a>
      <header className="shell">
        <Link href="/" className="brand">
          indexdeck
        </Link>
        <nav className="main" aria-label="Main">
          {NAV.filter((n) => can(actor.role, n.action)).map((n) => (
            <Link key={n.href} href={n.href}>
              {n.label}
            </Link>
          ))}
        </nav>
        <span className="who" data-testid="who">
          {actor.email} · {actor.role}
        </span>
        <Link href="/logout">Log out</Link>
      </header>
      <main id="content">{children}</main>
    </>
  );
}
