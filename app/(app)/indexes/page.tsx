import { LocalTime } from "@/components/local-time";
import Link from "next/link";
import { Forbidden } from "@/components/forbidden";
import { IndexTable } from "@/components/index-table";
import { can } from "@/lib/auth/policy";
import { formatBytes } from "@/lib/text/format";
import { IndexTableQuery, indexTableView } from "@/lib/monitor/index-table";
import { collectIntervalFromEnv } from "@/lib/monitor/collector";
import { recentReport, recentUsageRates } from "@/lib/monitor/recent-reads";
import type { IndexFinding } from "@/lib/monitor/index-report";
import { storePool } from "@/lib/store/pool";
import { pageActor } from "@/app/lib/session";
import { draftDropAction } from "./actions";
import { fileTargets } from "@/lib/targets/source";

// What each error code of draftDropAction means; codes, so the URL never carries text to show.
const DRAFT_ERRORS: Record<string, string> = {
  forbidden: "your role may not create change sets",
  "unknown-target": "no such target",
  "no-finding": "that index is no longer among the target's findings (the report was read again)",
  kept: "that index is kept: it has scans on a node, or a node can't vouch that it has none",
  "draft-refused":
    "its SQL did not re-parse as exactly one DROP INDEX CONCURRENTLY IF EXISTS of that index, so nothing was stored (the server's log says how it differed)",
};

export default async function IndexesPage({ searchParams }: { searchParams: Promise<Record<string, string | undefined>> }) {
  const { actor, allowed } = await pageActor("indexes:read");
  if (!allowed) return <Forbidden what="read index usage" />;
  const targets = await fileTargets()();
  const params = await searchParams;
  const target = targets.find((t) => t.id === params.target) ?? targets[0];
  if (!target) return <div className="card">No targets configured.</div>;
  let report: Awaited<ReturnType<typeof recentReport>> | null = null;
  let error: string | null = null;
  try {
    report = await recentReport(target, collectIntervalFromEnv());
  } catch (err) {
    error = (err as Error).message;
  }
  const tab = params.tab === "reports" ? "reports" : "indexes";
  const usage = tab === "indexes" ? await recentUsageRates(storePool(), target.id, collectIntervalFromEnv()) : null;
  const canDraft = can(actor.role, "changeset:create");
  // A refused draft names the index; what is said about it is the report's own verdict, never text from the URL.
  const kept = params.error === "kept" ? report?.usage.find((u) => u.schema === params.schema && u.index === params.index) : undefined;
  const query = IndexTableQuery.parse(params);
  // A few findings per section unless asked for all: a fleet target can have hundreds.
  const FINDINGS_SHOWN = 20;
  const section = (title: string, key: string, list: IndexFinding[]) => (
    <div className="card" data-report={key}>
      <h2>
        {title}: {list.length}
      </h2>
      {list.length > FINDINGS_SHOWN && params.show !== key && (
        <p>
          The {FINDINGS_SHOWN} largest are listed.{" "}
          <Link href={`/indexes?target=${target.id}&tab=reports&show=${key}`}>Show all {list.length}</Link> or run{" "}
          <code>npx indexdeck report --target {target.id}</code>.
        </p>
      )}
      {list.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Index</th>
              <th>Table</th>
              <th>Size</th>
              <th>Why</th>
              <th>Action</th>
            </tr>
          </thead>
          <tbody>
            {(params.show === key ? list : [...list].sort((a, b) => b.bytes - a.bytes).slice(0, FINDINGS_SHOWN)).map((f) => (
              <tr key={JSON.stringify([f.schema, f.index])}>
                <td>
                  <code>
                    {f.schema}.{f.index}
                  </code>
                </td>
                <td>{f.table}</td>
                <td>{formatBytes(f.bytes)}</td>
                <td>{f.reason}</td>
                <td>
                  {canDraft && (
                    <form action={draftDropAction}>
                      <input type="hidden" name="targetId" value={target.id} />
                      <input type="hidden" name="schema" value={f.schema} />
                      <input type="hidden" name="index" value={f.index} />
                      <button type="submit" className="secondary">
                        Draft DROP change set
                      </button>
                    </form>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
  const shortOfEvidence = report?.usage.filter((u) => u.verdict === "not-enough-evidence") ?? [];
  return (
    <>
      <h1>Indexes</h1>
      <p className="phase-form">
        {targets.map((t) => (
          <Link key={t.id} href={`/indexes?target=${t.id}`} className={t.id === target.id ? "badge state-verified" : "badge"}>
            {t.label}
          </Link>
        ))}
      </p>
      {params.error && (
        <p className="error" role="alert">
          Could not draft a change set: {Object.hasOwn(DRAFT_ERRORS, params.error) ? DRAFT_ERRORS[params.error] : "unexpected error"}
          {kept && (
            <>
              {" "}
              (
              <code>
                {kept.schema}.{kept.index}
              </code>{" "}
              {kept.reason})
            </>
          )}
        </p>
      )}
      {error && (
        <p className="card bad" role="alert">
          {target.label} is unreachable: {error}
        </p>
      )}
      {report && (
        <>
          <p className="who">
            Catalog read at <LocalTime at={report.readAt} part="time" /> (re-read once per collector interval,{" "}
            {Math.round(collectIntervalFromEnv() / 1000)} s). Scans per minute come from the usage collector&apos;s snapshots (reset-safe);
            &ldquo;scans&rdquo; is PostgreSQL&apos;s cumulative counter since statistics were last reset (
            {report.statsResetAt ?? "never reset since the server started"}), over every node.
          </p>
          {report.nodes.length > 1 && (
            <ul className="who" data-testid="usage-nodes">
              {report.nodes.map((n) => (
                <li key={n.node} className={n.problem ? "bad" : undefined}>
                  {n.node} ({n.role}
                  {n.label !== n.node ? `, ${n.label}` : ""}):{" "}
                  {n.problem ? n.problem.message : `counting scans since ${n.countingSince} (${n.windowDays} days)`}
                </li>
              ))}
            </ul>
          )}
          {/* Findings on a tab of their own: the table is what people come back to, and a fleet
              target's findings, each with a form, were most of what every view cost to render. */}
          <p className="phase-form" role="tablist">
            <Link
              role="tab"
              aria-selected={tab === "indexes"}
              href={`/indexes?target=${target.id}`}
              className={tab === "indexes" ? "badge state-verified" : "badge"}
            >
              All indexes: {report.indexes.length}
            </Link>
            <Link
              role="tab"
              aria-selected={tab === "reports"}
              href={`/indexes?target=${target.id}&tab=reports`}
              className={tab === "reports" ? "badge state-verified" : "badge"}
            >
              Reports: {report.unused.length} unused · {report.duplicate.length} duplicate · {report.invalid.length} invalid
            </Link>
          </p>
          {tab === "reports" || !usage ? (
            <>
              {section("Unused", "unused", report.unused)}
              <div className="card" data-report="not-enough-evidence">
                <h2>Without scans, but not enough evidence to call unused: {shortOfEvidence.length}</h2>
                <p>
                  An index is unused only with no scans on every node for {report.windowDays} days, counted from each node&apos;s last
                  statistics reset or start.
                </p>
                {shortOfEvidence.length > 0 && (
                  <table>
                    <tbody>
                      {shortOfEvidence.slice(0, params.show === "not-enough-evidence" ? undefined : FINDINGS_SHOWN).map((u) => (
                        <tr key={JSON.stringify([u.schema, u.index])}>
                          <td>
                            <code>
                              {u.schema}.{u.index}
                            </code>
                          </td>
                          <td>{u.table}</td>
                          <td>{formatBytes(u.bytes)}</td>
                          <td>{u.reason}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </div>
              {section("Duplicate and redundant", "duplicate", report.duplicate)}
              {section("Invalid", "invalid", report.invalid)}
            </>
          ) : (
            <div className="card">
              <IndexTable targetId={target.id} query={query} page={indexTableView(report.indexes, usage, query)} />
            </div>
          )}
        </>
      )}
    </>
  );
}
