import Link from "next/link";
import { Forbidden } from "@/components/forbidden";
import { formatBytes } from "@/lib/format";
import { storePool } from "@/lib/store/pool";
import { targetsWithPolicies } from "@/lib/targets/policies";
import { targetStatuses } from "@/lib/targets/status";
import { pageActor } from "@/app/lib/session";

export default async function TargetsPage() {
  const { allowed } = await pageActor("targets:read");
  if (!allowed) return <Forbidden what="read targets" />;
  const statuses = await targetStatuses(await targetsWithPolicies(storePool()));
  return (
    <>
      <h1>Targets</h1>
      {statuses.length === 0 && <p className="card">No targets configured. Add them to indexdeck.targets.json (see README).</p>}
      <table data-testid="targets">
        <thead>
          <tr><th>Target</th><th>Environment</th><th>Connection</th><th>Server</th><th>Database size</th><th>Approvals</th><th>Status</th></tr>
        </thead>
        <tbody>
          {statuses.map((t) => (
            <tr key={t.id} data-target={t.id}>
              <td><Link href={`/targets/${t.id}`}><strong>{t.label}</strong></Link><br /><code>{t.id}</code></td>
              <td><span className="badge">{t.environment}</span></td>
              <td><code>{t.connection}</code></td>
              <td>{t.reachable ? `PostgreSQL ${t.server.serverVersion}` : "—"}</td>
              <td>{t.reachable ? formatBytes(t.server.databaseBytes) : "—"}</td>
              <td>{t.approvalsRequired}</td>
              <td>{t.reachable ? <span className="ok">up</span> : <span className="bad">down: {t.error}</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
