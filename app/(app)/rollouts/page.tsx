import { LocalTime } from "@/components/local-time";
import Link from "next/link";
import { can } from "@/lib/auth/policy";
import { listChangeSets } from "@/lib/changeset/store";
import { listRollouts } from "@/lib/rollout/rollouts";
import { storePool } from "@/lib/store/pool";
import { Forbidden } from "@/components/forbidden";
import { NewRolloutForm } from "@/components/new-rollout-form";
import { pageActor } from "@/app/lib/session";
import { governingTargets } from "@/lib/targets/source";

export default async function RolloutsPage() {
  const { actor, allowed } = await pageActor("rollouts:read");
  if (!allowed) return <Forbidden what="read rollouts" />;
  const pool = storePool();
  const [rollouts, changeSets] = await Promise.all([
    listRollouts(pool),
    can(actor.role, "rollout:create") ? listChangeSets(pool) : Promise.resolve([]),
  ]);
  const targets = await governingTargets(pool)();
  return (
    <>
      <h1>Rollouts</h1>
      {can(actor.role, "rollout:create") && (
        <NewRolloutForm
          changeSets={changeSets.map((c) => ({ id: c.id, label: `${c.name} (${c.sha256.slice(0, 12)}…)` }))}
          targets={targets.map((t) => ({ id: t.id, label: `${t.label} — ${t.environment}, ${t.approvals.required} approval(s)` }))}
        />
      )}
      <table data-testid="rollouts">
        <thead>
          <tr>
            <th>#</th>
            <th>Change set</th>
            <th>Target</th>
            <th>State</th>
            <th>Requested by</th>
            <th>Updated</th>
          </tr>
        </thead>
        <tbody>
          {rollouts.map((r) => (
            <tr key={r.id}>
              <td>
                <Link href={`/rollouts/${r.id}`}>#{r.id}</Link>
              </td>
              <td>
                {r.changesetName} <code>{r.changesetSha256.slice(0, 12)}</code>
              </td>
              <td>
                {r.targetId} <span className="badge">{r.environment}</span>
              </td>
              <td>
                <span className={`badge state-${r.state}`}>{r.state}</span>
              </td>
              <td>{r.requestedBy}</td>
              <td>
                <LocalTime at={r.updatedAt} />
              </td>
            </tr>
          ))}
          {rollouts.length === 0 && (
            <tr>
              <td colSpan={6}>No rollouts yet.</td>
            </tr>
          )}
        </tbody>
      </table>
    </>
  );
}
