import Link from "next/link";
import { Forbidden } from "@/components/forbidden";
import { LocalTime } from "@/components/local-time";
import { formatBytes } from "@/lib/text/format";
import { collectorStatuses, type CollectorStatus } from "@/lib/monitor/collector";
import { storePool } from "@/lib/store/pool";
import { targetStatus } from "@/lib/targets/status";
import { pageActor } from "@/app/lib/session";
import { governingTargets } from "@/lib/targets/source";

export default async function TargetsPage() {
  const { allowed } = await pageActor("targets:read");
  if (!allowed) return <Forbidden what="read targets" />;
  const [statuses, collection] = await Promise.all([
    governingTargets(storePool())().then((targets) => Promise.all(targets.map(targetStatus))),
    collectorStatuses(storePool()),
  ]);
  return (
    <>
      <h1>Targets</h1>
      {statuses.length === 0 && <p className="card">No targets configured. Add them to indexdeck.targets.json (see README).</p>}
      <table data-testid="targets">
        <thead>
          <tr>
            <th>Target</th>
            <th>Environment</th>
            <th>Connection</th>
            <th>Server</th>
            <th>Database size</th>
            <th>Approvals</th>
            <th>Status</th>
            <th>Usage collector</th>
          </tr>
        </thead>
        <tbody>
          {statuses.map((t) => (
            <tr key={t.id} data-target={t.id}>
              <td>
                <Link href={`/targets/${t.id}`}>
                  <strong>{t.label}</strong>
                </Link>
                <br />
                <code>{t.id}</code>
              </td>
              <td>
                <span className="badge">{t.environment}</span>
              </td>
              <td>
                <code>{t.connection}</code>
              </td>
              <td>{t.reachable ? `PostgreSQL ${t.server.serverVersion}` : "—"}</td>
              <td>{t.reachable ? formatBytes(t.server.databaseBytes) : "—"}</td>
              <td>{t.approvalsRequired}</td>
              <td>{t.reachable ? <span className="ok">up</span> : <span className="bad">down: {t.error}</span>}</td>
              <td data-testid="collector-status">
                <Collection status={collection.get(t.id)} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** A failing collection shows its error (a missing grant is named there), so a gap in the charts has its reason. */
function Collection({ status }: { status: CollectorStatus | undefined }) {
  if (!status) return <>not collected yet</>;
  const last = status.lastOkAt ? (
    <>
      last snapshot <LocalTime at={status.lastOkAt} />
    </>
  ) : (
    "no snapshot yet"
  );
  if (!status.failing) return <span className="ok">{last}</span>;
  return (
    <span className="bad">
      failing since <LocalTime at={status.failing.at} />: {status.failing.error} ({last})
    </span>
  );
}
