import { Forbidden } from "@/components/forbidden";
import { recentAudit } from "@/lib/audit/log";
import { verifyAudit } from "@/lib/audit/verify";
import { storePool } from "@/lib/store/pool";
import { pageActor } from "@/app/lib/session";

export default async function AuditPage() {
  const { allowed } = await pageActor("audit:read");
  if (!allowed) return <Forbidden what="read the audit log" />;
  const pool = storePool();
  const [verdict, rows] = await Promise.all([verifyAudit(pool), recentAudit(pool, 200)]);
  return (
    <>
      <h1>Audit log</h1>
      <div className="card" data-testid="audit-verdict">
        {verdict.ok ? (
          <p className="ok">Chain intact: {verdict.rows} rows verified. Head hash <code>{verdict.headHash ?? "(empty)"}</code></p>
        ) : (
          <p className="bad">Chain BROKEN at row {verdict.firstBadId}: {verdict.reason}. Rows checked: {verdict.rows}.</p>
        )}
      </div>
      <table>
        <thead><tr><th>#</th><th>Time (UTC)</th><th>Actor</th><th>Action</th><th>Target</th><th>Details</th><th>Hash</th></tr></thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id}>
              <td>{r.id}</td>
              <td>{r.at.toISOString().replace("T", " ").slice(0, 19)}</td>
              <td>{r.actor}{r.role ? ` (${r.role})` : ""}</td>
              <td><code>{r.action}</code></td>
              <td>{r.targetId ?? ""}</td>
              <td><code>{JSON.stringify(r.details)}</code></td>
              <td><code title={r.hash}>{r.hash.slice(0, 12)}…</code></td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="who">Filters, the sign-off history and CSV/JSON export arrive with issue #6.</p>
    </>
  );
}
