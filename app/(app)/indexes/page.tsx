import Link from "next/link";
import { Forbidden } from "@/components/forbidden";
import { IndexTable } from "@/components/index-table";
import { can } from "@/lib/auth/policy";
import { formatBytes } from "@/lib/format";
import { reportForTarget, type Finding } from "@/lib/monitor/reports";
import { usageSummary } from "@/lib/monitor/usage";
import { storePool } from "@/lib/store/pool";
import { loadTargets } from "@/lib/targets/config";
import { pageActor } from "@/app/lib/session";
import { draftDropAction } from "./actions";

export default async function IndexesPage({ searchParams }: { searchParams: Promise<Record<string, string | undefined>> }) {
  const { actor, allowed } = await pageActor("indexes:read");
  if (!allowed) return <Forbidden what="read index usage" />;
  const targets = loadTargets();
  const params = await searchParams;
  const target = targets.find((t) => t.id === params.target) ?? targets[0];
  if (!target) return <div className="card">No targets configured.</div>;
  let report: Awaited<ReturnType<typeof reportForTarget>> | null = null;
  let error: string | null = null;
  try {
    report = await reportForTarget(target);
  } catch (err) {
    error = (err as Error).message;
  }
  const usage = await usageSummary(storePool(), target.id);
  const canDraft = can(actor.role, "changeset:create");
  const section = (title: string, list: Finding[]) => (
    <div className="card" data-report={title.toLowerCase()}>
      <h2 style={{ fontSize: 16, marginTop: 0 }}>{title}: {list.length}</h2>
      {list.length > 0 && (
        <table>
          <thead><tr><th>Index</th><th>Table</th><th>Size</th><th>Why</th><th></th></tr></thead>
          <tbody>
            {list.map((f) => (
              <tr key={f.index}>
                <td><code>{f.schema}.{f.index}</code></td><td>{f.table}</td><td>{formatBytes(f.bytes)}</td><td>{f.reason}</td>
                <td>{canDraft && (
                  <form action={draftDropAction}>
                    <input type="hidden" name="targetId" value={target.id} />
                    <input type="hidden" name="index" value={f.index} />
                    <button type="submit" className="secondary">Draft DROP change set</button>
                  </form>
                )}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
  return (
    <>
      <h1>Indexes</h1>
      <p className="phase-form">
        {targets.map((t) => (
          <Link key={t.id} href={`/indexes?target=${t.id}`} className={t.id === target.id ? "badge state-verified" : "badge"}>{t.label}</Link>
        ))}
      </p>
      {params.error && <p className="error" role="alert">Could not draft a change set: {params.error.replace(/-/g, " ")}</p>}
      {error && <p className="card bad" role="alert">{target.label} is unreachable: {error}</p>}
      {report && (
        <>
          <p className="who">Scans per minute come from the usage collector&apos;s snapshots (reset-safe); &ldquo;scans&rdquo; is PostgreSQL&apos;s cumulative counter since statistics were last reset ({report.statsResetAt ?? "never reset since the server started"}).</p>
          {section("Unused", report.unused)}
          {section("Duplicate and redundant", report.duplicate)}
          {section("Invalid", report.invalid)}
          <div className="card">
            <h2 style={{ fontSize: 16, marginTop: 0 }}>All indexes on {target.label}: {report.indexes.length}</h2>
            <IndexTable targetId={target.id} rows={report.indexes.map((r) => {
              const u = usage.get(`${r.schema}.${r.name}`);
              return { name: `${r.schema}.${r.name}`, table: r.table, now: u?.perMinuteNow ?? null, d1: u?.perMinute24h ?? null, d7: u?.perMinute7d ?? null, d30: u?.perMinute30d ?? null, scans: r.scans, bytes: r.bytes, valid: r.valid, definition: r.definition };
            })} />
          </div>
        </>
      )}
    </>
  );
}
