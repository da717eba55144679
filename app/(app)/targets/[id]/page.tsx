import { LocalTime } from "@/components/local-time";
import Link from "next/link";
import { notFound } from "next/navigation";
import { Forbidden } from "@/components/forbidden";
import { PolicyApprovalForm, PolicyForm } from "@/components/policy-form";
import { can, ROLES } from "@/lib/auth/policy";
import { storePool } from "@/lib/store/pool";
import { findTarget } from "@/lib/targets/config";
import { policyState, type Policy } from "@/lib/targets/policies";
import { formatFreezes, formatWindows } from "@/lib/targets/policy-text";
import { maintenanceWindow } from "@/lib/targets/windows";
import { pageActor } from "@/app/lib/session";
import { fileTargets } from "@/lib/targets/source";

function PolicySummary({ policy }: { policy: Policy }) {
  return (
    <ul>
      <li>
        {policy.approvals.required} approval(s) from {policy.approvals.roles.join(", ")}; the requester{" "}
        {policy.approvals.requesterMayApprove ? "may" : "may not"} approve
      </li>
      <li>
        Windows:{" "}
        {policy.maintenanceWindows.length ? (
          <code>{formatWindows(policy.maintenanceWindows).replace(/\n/g, "; ")}</code>
        ) : (
          "none (every apply needs an override)"
        )}
      </li>
      <li>Freezes: {policy.freezes.length ? <code>{formatFreezes(policy.freezes).replace(/\n/g, "; ")}</code> : "none"}</li>
    </ul>
  );
}

/** One target's policy: what governs it now, where that came from, every change and who made it. */
export default async function TargetPage({ params }: { params: Promise<{ id: string }> }) {
  const { actor, allowed } = await pageActor("targets:read");
  if (!allowed) return <Forbidden what="read targets" />;
  const target = findTarget(await fileTargets()(), decodeURIComponent((await params).id));
  if (!target) notFound();
  const { version, latest, policy: current, pending, history } = await policyState(storePool(), target);
  const inForceVersion = history.find((v) => v.version === version);
  const window = maintenanceWindow(current);
  return (
    <>
      <p>
        <Link href="/targets">← Targets</Link>
      </p>
      <h1>
        {target.label} <span className="badge">{target.environment}</span>
      </h1>
      <div className="card" data-testid="policy-current">
        <h2>
          Policy now:{" "}
          {inForceVersion ? (
            <>
              version {inForceVersion.version}, by {inForceVersion.changedBy} on <LocalTime at={inForceVersion.createdAt} />
              {inForceVersion.approvedBy ? `, approved by ${inForceVersion.approvedBy}` : ""}
            </>
          ) : (
            "as in the targets file"
          )}
        </h2>
        <PolicySummary policy={current} />
        <p>
          {window.open ? (
            <span className="ok">Inside {window.window} now.</span>
          ) : (
            <span className="bad">Closed now: {window.reason}.</span>
          )}
        </p>
      </div>
      {pending && (
        <div className="card" data-testid="policy-pending">
          <h2>
            Pending: version {pending.version}, saved by {pending.changedBy} on <LocalTime at={pending.createdAt} />
          </h2>
          <p>A production policy governs only once a second admin approves it. Reason: {pending.reason}</p>
          <PolicySummary policy={pending.policy} />
          {can(actor.role, "policy:manage") && pending.changedBy !== actor.email && (
            <PolicyApprovalForm targetId={target.id} version={pending.version} />
          )}
        </div>
      )}
      {can(actor.role, "policy:manage") && (
        <PolicyForm
          targetId={target.id}
          basedOn={latest}
          required={current.approvals.required}
          roles={current.approvals.roles}
          allRoles={ROLES}
          requesterMayApprove={current.approvals.requesterMayApprove}
          windows={formatWindows(current.maintenanceWindows)}
          freezes={formatFreezes(current.freezes)}
        />
      )}
      <div className="card">
        <h2>History</h2>
        {history.length === 0 ? (
          <p>No changes in the app yet; the targets file&apos;s policy applies.</p>
        ) : (
          <table data-testid="policy-history">
            <thead>
              <tr>
                <th>Version</th>
                <th>When</th>
                <th>By</th>
                <th>Approved by</th>
                <th>Reason</th>
                <th>Policy</th>
              </tr>
            </thead>
            <tbody>
              {history.map((v) => (
                <tr key={v.version}>
                  <td>{v.version}</td>
                  <td>
                    <LocalTime at={v.createdAt} />
                  </td>
                  <td>
                    {v.changedBy} ({v.changedByRole})
                  </td>
                  <td>{v.needsApproval ? (v.approvedBy ?? "pending") : "—"}</td>
                  <td>{v.reason}</td>
                  <td>
                    <PolicySummary policy={v.policy} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p>
          Each change is also in the <Link href={`/audit?target=${target.id}&action=policy.change`}>audit log</Link>.
        </p>
      </div>
    </>
  );
}
