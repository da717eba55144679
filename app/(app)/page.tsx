import Link from "next/link";
import { can } from "@/lib/auth/policy";
import { NAV } from "@/app/lib/navigation";
import { pageActor } from "@/app/lib/session";

export default async function Home() {
  const { actor } = await pageActor("rollouts:read");
  return (
    <>
      <h1>Welcome, {actor.email}</h1>
      <div className="card">
        <p>You are signed in as <strong>{actor.role}</strong>. You can open:</p>
        <ul>
          {NAV.filter((n) => can(actor.role, n.action)).map((n) => (
            <li key={n.href}><Link href={n.href}>{n.label}</Link></li>
          ))}
        </ul>
        <p className="who">The &ldquo;needs attention&rdquo; home page (approvals, running builds, follow-ups) arrives with issue #8.</p>
      </div>
    </>
  );
}
