import { formatBytes, formatChange, formatMs } from "@/lib/text/format";
import { latencyBars } from "@/lib/monitor/latency";
import { BuildTimeline } from "@/components/build-timeline";
import { LatencyChart } from "@/components/latency-chart";
import { LocalTime } from "@/components/local-time";
import { SqlBlock } from "@/components/sql-with-findings";
import Link from "next/link";
import { CHAIN_AGE, durationText, governanceWithheld, ReportError, sharedReports } from "@/lib/rollout/report";
import { storePool } from "@/lib/store/pool";
import { BusyError, reportWork } from "@/lib/web/work-limit";
import { TROUBLESHOOTING, troubleshootingFor } from "@/lib/text/troubleshooting";
import { pageActor } from "@/app/lib/session";
import { Forbidden } from "@/components/forbidden";
import { PartitionPlans } from "@/components/partition-plan";
import { recordedPlans } from "@/lib/rollout/partitions";
import { RolloutId } from "@/app/lib/http";
import "./print.css";

export const dynamic = "force-dynamic";

/** A recorded moment, or a dash for one that hasn't happened. */
const When = ({ at }: { at: Date | null | undefined }) => (at ? <LocalTime at={at} /> : <>—</>);

/** The print-ready completion report: no navigation, only what was measured and recorded. */
export default async function ReportPage({ params }: { params: Promise<{ id: string }> }) {
  const { actor, allowed } = await pageActor("rollouts:read");
  if (!allowed)
    return (
      <main className="report">
        <Forbidden what="read rollouts" />
      </main>
    );
  const id = RolloutId.safeParse((await params).id);
  let r;
  try {
    if (!id.success) throw new ReportError(`there is no rollout ${(await params).id}`);
    // A few at a time per server (lib/web/work-limit.ts): a burst of reports waits its turn, sign-ins don't.
    r = await reportWork.run(() => sharedReports.get(storePool(), id.data, actor.role));
  } catch (err) {
    if (err instanceof BusyError)
      return (
        <main className="report">
          <h1>Busy</h1>
          <p role="alert">{err.message}.</p>
        </main>
      );
    if (!(err instanceof ReportError)) throw err;
    return (
      <main className="report">
        <h1>No report</h1>
        <p>{err.message}.</p>
        <p className="no-print">
          <Link href="/rollouts">All rollouts</Link>
        </p>
      </main>
    );
  }
  const { rollout } = r;
  const help = troubleshootingFor(rollout.errorCode);
  return (
    <main className="report" data-testid="report">
      <p className="no-print">
        <Link href={`/rollouts/${rollout.id}`}>← back to the rollout</Link> ·{" "}
        <a href={`/api/rollouts/${rollout.id}/report`} download>
          Download Markdown
        </a>{" "}
        · use your browser&apos;s Print to save a PDF
      </p>
      <h1>
        Rollout #{rollout.id}: {rollout.changesetName} → {rollout.targetId}
      </h1>
      <p>
        Generated <When at={r.generatedAt} /> from recorded evidence. Anything not measured says so.
      </p>
      <ul>
        <li>
          State: <strong>{rollout.state}</strong>
          {rollout.error ? ` — ${rollout.error}` : ""}
        </li>
        <li>
          Environment: {rollout.environment}; requested by {rollout.requestedBy} on <When at={rollout.createdAt} />
        </li>
        <li>
          Change set sha256: <code>{rollout.changesetSha256}</code>
        </li>
        <li>
          Lint: {r.lint.errors} errors, {r.lint.warnings} warnings{r.lint.rules.length ? ` (${r.lint.rules.join(", ")})` : ""}
        </li>
        {help && (
          <li>
            Troubleshooting — {TROUBLESHOOTING[help].title}: {TROUBLESHOOTING[help].body}
          </li>
        )}
      </ul>
      <h2>Change set</h2>
      <SqlBlock sql={rollout.changesetSql} open />
      <h2>Pre-check</h2>
      {rollout.precheck ? (
        <table>
          <thead>
            <tr>
              <th>Check</th>
              <th>Result</th>
              <th>Evidence</th>
            </tr>
          </thead>
          <tbody>
            {rollout.precheck.checks.map((c) => (
              <tr key={c.id}>
                <td>{c.title}</td>
                <td>{c.status}</td>
                <td>{c.summary}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>Not run.</p>
      )}
      <PartitionPlans plans={recordedPlans(rollout.precheck)} />
      <h2>Statements</h2>
      <table>
        <thead>
          <tr>
            <th>#</th>
            <th>Statement</th>
            <th>Status</th>
            <th>Duration</th>
            <th>Retries</th>
            <th>Phases seen</th>
            <th>Size</th>
          </tr>
        </thead>
        <tbody>
          {r.tasks.map((t) => (
            <tr key={t.seq}>
              <td>{t.seq + 1}</td>
              <td>{t.indexName ?? t.statement.slice(0, 60)}</td>
              <td>
                {t.status}
                {t.error ? ` (${t.error})` : ""}
              </td>
              <td>{durationText(t.duration)}</td>
              <td>{t.retries}</td>
              <td>{t.phases.join(", ") || "—"}</td>
              <td>{t.bytes === null ? "—" : formatBytes(t.bytes)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Build timeline</h2>
      <BuildTimeline
        tasks={r.tasks.map((t) => ({ seq: t.seq, label: t.indexName ?? t.statement, status: t.status }))}
        timeline={r.builds}
        now={r.generatedAt.getTime()}
      />
      <h2>Timeline</h2>
      {r.timeline.length ? (
        <table data-testid="report-timeline">
          <thead>
            <tr>
              <th>When</th>
              <th>Event</th>
            </tr>
          </thead>
          <tbody>
            {r.timeline.map((e, i) => (
              <tr key={i} data-kind={e.kind}>
                <td>
                  <When at={e.at} />
                </td>
                <td>{e.kind === "takeover" ? <strong>{e.text}</strong> : e.text}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>Nothing has run yet.</p>
      )}
      <h2>Verify</h2>
      {rollout.verify ? (
        <table>
          <thead>
            <tr>
              <th>Check</th>
              <th>Result</th>
              <th>Evidence</th>
            </tr>
          </thead>
          <tbody>
            {[...rollout.verify.indexes, ...rollout.verify.plans].map((c) => (
              <tr key={c.id}>
                <td>{c.title}</td>
                <td>{c.status}</td>
                <td>{c.summary}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>Not verified.</p>
      )}
      <h2>p95 before / after (measured)</h2>
      {r.latency.length ? (
        <>
          <LatencyChart rows={latencyBars(r.latency)} />
          <table data-testid="report-latency">
            <thead>
              <tr>
                <th>Query pattern</th>
                <th>p95 before</th>
                <th>p95 after</th>
                <th>Change</th>
                <th>Samples</th>
              </tr>
            </thead>
            <tbody>
              {r.latency.map((l) => (
                <tr key={l.workload} data-workload={l.workload}>
                  <td>{l.workload}</td>
                  <td>{formatMs(l.before?.p95Ms)}</td>
                  <td>{formatMs(l.after?.p95Ms)}</td>
                  <td>{formatChange(l.changePercent) ?? "not measured"}</td>
                  <td>
                    {l.before?.samples ?? 0} / {l.after?.samples ?? 0}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : (
        <p>Not measured.</p>
      )}
      <h2>Approvals</h2>
      {r.approvals.length ? (
        <ul>
          {r.approvals.map((a) => (
            <li key={a.id}>
              {a.approver} ({a.approverRole}) <strong>{a.decision}</strong> on <When at={a.createdAt} />: {a.comment}
            </li>
          ))}
        </ul>
      ) : (
        <p>{rollout.approvalsRequired ? "None recorded." : "The target's policy needs no approval."}</p>
      )}
      <h2>Overrides</h2>
      {!r.governance ? (
        <p>{governanceWithheld(r.reader)}</p>
      ) : r.governance.overrides.length ? (
        <ul>
          {r.governance.overrides.map((o) => (
            <li key={o.hash}>
              {o.action} by {o.actor}: {o.reason} (audit <code>{o.hash.slice(0, 16)}…</code>)
            </li>
          ))}
        </ul>
      ) : (
        <p>None.</p>
      )}
      <h2>Sign-off</h2>
      {r.signoffs.length ? (
        r.signoffs.map((s) => (
          <div key={s.id}>
            <p>
              <strong>{s.decision.replace(/_/g, " ")}</strong> by {s.signedBy} ({s.signedByRole}) on <When at={s.createdAt} />.{" "}
              {s.notes === null ? governanceWithheld(r.reader) : `Notes: ${s.notes || "—"}`}
            </p>
            <table>
              <thead>
                <tr>
                  <th>Section</th>
                  <th>Item</th>
                  <th>Status</th>
                  <th>Evidence</th>
                </tr>
              </thead>
              <tbody>
                {s.checklist.map((c) => (
                  <tr key={c.id}>
                    <td>{c.section}</td>
                    <td>{c.label}</td>
                    <td>{c.ok === true ? "yes" : c.ok === false ? "no" : "not measured"}</td>
                    <td>{c.evidence}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))
      ) : (
        <p>Not signed off.</p>
      )}
      <h2>Audit trail</h2>
      {!r.governance ? (
        <p data-testid="report-chain">{governanceWithheld(r.reader)}</p>
      ) : (
        <>
          <p data-testid="report-chain">
            Chain verdict at export:{" "}
            <strong>
              {r.governance.chain.ok ? `intact (${r.governance.chain.rows} rows)` : `BROKEN at row ${r.governance.chain.firstBadId}`}
            </strong>
            ; {CHAIN_AGE.before}
            <When at={r.governance.chain.wholeChainAt} />
            {CHAIN_AGE.after}
          </p>
          <table>
            <thead>
              <tr>
                <th>#</th>
                <th>When</th>
                <th>Who</th>
                <th>Action</th>
                <th>Hash</th>
              </tr>
            </thead>
            <tbody>
              {r.governance.auditRows.map((a) => (
                <tr key={a.id}>
                  <td>{a.id}</td>
                  <td>
                    <When at={a.at} />
                  </td>
                  <td>{a.actor}</td>
                  <td>{a.action}</td>
                  <td>
                    <code>{a.hash}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </main>
  );
}
