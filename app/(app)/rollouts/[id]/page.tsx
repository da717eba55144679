import { LocalTime } from "@/components/local-time";
import Link from "next/link";
import { can } from "@/lib/auth/policy";
import { getRollout, rolloutTasks, type CheckResult } from "@/lib/rollout/rollouts";
import { allowedPhases, allowedStep } from "@/lib/rollout/machine";
import { storePool } from "@/lib/store/pool";
import { Forbidden } from "@/components/forbidden";
import { ApprovalPanel } from "@/components/approval-panel";
import { RolloutActions } from "@/components/rollout-actions";
import { listApprovals } from "@/lib/rollout/approvals";
import { evidenceChecklist, listSignoffs } from "@/lib/rollout/signoff";
import { SignoffForm } from "@/components/signoff-form";
import { SqlWithFindings } from "@/components/sql-with-findings";
import { LatencyTable } from "@/components/latency-table";
import { latencyComparison } from "@/lib/monitor/latency";
import { FOLLOWUPS, rolloutFollowups, usageEvidence } from "@/lib/monitor/followups";
import { RolloutLive } from "@/components/rollout-live";
import { PartitionPlans } from "@/components/partition-plan";
import { recordedPlans } from "@/lib/rollout/partitions";
import { visibleRollout } from "@/lib/rollout/report";
import { pageActor } from "@/app/lib/session";
import { RolloutId } from "@/app/lib/http";
import { troubleshootingFor, troubleshootingForCheck } from "@/lib/text/troubleshooting";
import { draftAnalyzeAction } from "../actions";

function Checks({
  title,
  at,
  checks,
  analyze,
}: {
  title: string;
  at: string;
  checks: CheckResult[];
  analyze?: { rolloutId: number; allowed: boolean };
}) {
  return (
    <div className="card">
      <h2>
        {title}, <LocalTime at={at} />
      </h2>
      <table>
        <thead>
          <tr>
            <th>Check</th>
            <th>Result</th>
            <th>Evidence</th>
          </tr>
        </thead>
        <tbody>
          {checks.map((c) => (
            <tr key={c.id} data-check={c.id}>
              <td>{c.title}</td>
              <td className={`check-${c.status}`}>
                <strong>{c.status}</strong>
              </td>
              <td>
                {c.summary}
                {troubleshootingForCheck(c) && (
                  <>
                    {" "}
                    — <Link href={`/help#${troubleshootingForCheck(c)}`}>what to do</Link>
                  </>
                )}
                {analyze?.allowed && c.code === "planner_not_using_index" && c.status === "fail" && (
                  <form action={draftAnalyzeAction} style={{ display: "inline", marginLeft: 8 }}>
                    <input type="hidden" name="rolloutId" value={analyze.rolloutId} />
                    <input type="hidden" name="check" value={c.id} />
                    <button type="submit" className="secondary">
                      Draft ANALYZE change set
                    </button>
                  </form>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export default async function RolloutPage({ params }: { params: Promise<{ id: string }> }) {
  const { actor, allowed } = await pageActor("rollouts:read");
  if (!allowed) return <Forbidden what="read rollouts" />;
  const id = RolloutId.safeParse((await params).id);
  const pool = storePool();
  const found = id.success ? await getRollout(pool, id.data) : null;
  // Who overrode a window or waived promotion, and why, is for roles that may read the audit log.
  const rollout = found && visibleRollout(found, actor.role);
  if (!rollout)
    return (
      <div className="card">
        <h1>Rollout not found</h1>
        <p>
          There is no rollout {(await params).id}. <Link href="/rollouts">All rollouts</Link>
        </p>
      </div>
    );
  const [tasks, approvals, signoffs] = await Promise.all([
    rolloutTasks(pool, rollout.id),
    listApprovals(pool, rollout.id),
    listSignoffs(pool, { rolloutId: rollout.id }),
  ]);
  const latency = await latencyComparison(pool, rollout.id);
  return (
    <>
      <h1>
        Rollout #{rollout.id}: {rollout.changesetName} → {rollout.targetId}
      </h1>
      <div className="card">
        <p>
          State{" "}
          <span className="badge" data-testid="rollout-state">
            {rollout.state}
          </span>{" "}
          · {rollout.environment} · requested by {rollout.requestedBy} · sha256 <code>{rollout.changesetSha256}</code>
        </p>
        {rollout.error && (
          <p className="bad" data-testid="rollout-error">
            {rollout.error}
            {troubleshootingFor(rollout.errorCode) && (
              <>
                {" "}
                — <Link href={`/help#${troubleshootingFor(rollout.errorCode)}`}>what to do</Link>
              </>
            )}
          </p>
        )}
        <p>
          <Link href={`/report/${rollout.id}`}>Report (print / PDF)</Link> ·{" "}
          <a href={`/api/rollouts/${rollout.id}/report`} download>
            Download Markdown
          </a>
        </p>
      </div>
      <details className="card" data-testid="approved-text" open={rollout.state === "awaiting_approval"}>
        <summary>What the sha256 binds: the SQL and its query patterns</summary>
        <SqlWithFindings sql={rollout.changesetSql} findings={[]} />
        {rollout.changesetWorkloads ? (
          <pre data-testid="rollout-workloads">{rollout.changesetWorkloads}</pre>
        ) : (
          <p className="who">No query patterns came with this change set: verify checks no plans and p95 is not measured.</p>
        )}
      </details>
      {rollout.approvalsRequired > 0 && (
        <ApprovalPanel
          rolloutId={rollout.id}
          sha256={rollout.changesetSha256}
          targetId={rollout.targetId}
          required={rollout.approvalsRequired}
          approvals={approvals.map((a) => ({ ...a, createdAt: a.createdAt.toISOString() }))}
          canDecide={allowedStep("approve", rollout.state, actor.role) && actor.email !== rollout.requestedBy}
        />
      )}
      <PartitionPlans plans={recordedPlans(rollout.precheck)} />
      <RolloutActions
        rolloutId={rollout.id}
        state={rollout.state}
        phases={allowedPhases(rollout.state, actor.role)}
        canOverrideWindow={can(actor.role, "window:override")}
        canWaivePromotion={can(actor.role, "promotion:waive") && rollout.environment === "production"}
        canWaiveSearchPath={can(actor.role, "searchpath:waive") && rollout.environment === "production"}
      />
      {/* The next step right after the buttons: the keyboard reaches it before the statements and the event log. */}
      {allowedStep("signoff", rollout.state, actor.role) && (
        <SignoffForm
          rolloutId={rollout.id}
          sha256={rollout.changesetSha256}
          items={await evidenceChecklist(
            rollout,
            approvals,
            latency,
            await usageEvidence(pool, rollout.id, new Date(rollout.verify?.at ?? rollout.updatedAt)),
          )}
        />
      )}
      <RolloutLive
        rolloutId={rollout.id}
        tasks={tasks.map((t) => ({ seq: t.seq, kind: t.kind, indexName: t.indexName, statement: t.statement, status: t.status }))}
      />
      {rollout.precheck && (
        <Checks
          title={`Pre-check ${rollout.precheck.ok ? "passed" : "failed"}`}
          at={rollout.precheck.at}
          checks={rollout.precheck.checks}
        />
      )}
      {signoffs.map((s) => (
        <div className="card" key={s.id} data-testid="signoff">
          Sign-off <Link href={`/signoffs/${s.id}`}>#{s.id}</Link>: <strong>{s.decision.replace(/_/g, " ")}</strong> by {s.signedBy} (
          {s.signedByRole}) at <LocalTime at={s.createdAt} />
        </div>
      ))}
      {latency.length > 0 && <LatencyTable rows={latency} />}
      {(await rolloutFollowups(pool, rollout.id)).map((f) => (
        <div className="card" key={f.kind} data-followup={f.kind}>
          Follow-up: {FOLLOWUPS[f.kind].label} —{" "}
          {f.resolvedAt ? (
            <span className="ok">
              resolved <LocalTime at={f.resolvedAt} /> ({f.evidence})
            </span>
          ) : (
            <span className={f.dueAt <= new Date() ? "bad" : "who"}>
              due <LocalTime at={f.dueAt} />
            </span>
          )}
        </div>
      ))}
      {rollout.verify && (
        <Checks
          title={`Verify ${rollout.verify.ok ? "passed" : "found problems"}`}
          at={rollout.verify.at}
          checks={[...rollout.verify.indexes, ...rollout.verify.plans]}
          analyze={{ rolloutId: rollout.id, allowed: can(actor.role, "changeset:create") }}
        />
      )}
    </>
  );
}
