import { LocalTime } from "@/components/local-time";
import Link from "next/link";
import { ChecklistTable } from "@/components/checklist";
import { Forbidden } from "@/components/forbidden";
import { recentVerdict } from "@/lib/audit/recent-verdict";
import { listApprovals } from "@/lib/rollout/approvals";
import { getRollout } from "@/lib/rollout/rollouts";
import { getSignoff } from "@/lib/rollout/signoff";
import { storePool } from "@/lib/store/pool";
import { pageActor } from "@/app/lib/session";
import { RolloutId } from "@/app/lib/http";

export default async function SignoffPage({ params }: { params: Promise<{ id: string }> }) {
  const { allowed } = await pageActor("signoffs:read");
  if (!allowed) return <Forbidden what="read the sign-off history" />;
  const id = RolloutId.safeParse((await params).id);
  const pool = storePool();
  const s = id.success ? await getSignoff(pool, id.data) : null;
  if (!s)
    return (
      <div className="card">
        <h1>Sign-off not found</h1>
        <Link href="/signoffs">All sign-offs</Link>
      </div>
    );
  const [rollout, approvals, verdict] = await Promise.all([
    getRollout(pool, s.rolloutId),
    listApprovals(pool, s.rolloutId),
    recentVerdict(pool),
  ]);
  return (
    <>
      <h1>
        Sign-off #{s.id}: rollout <Link href={`/rollouts/${s.rolloutId}`}>#{s.rolloutId}</Link> on {s.targetId}
      </h1>
      <div className="card">
        <p>
          <strong>{s.decision.replace(/_/g, " ")}</strong> by {s.signedBy} ({s.signedByRole}) at <LocalTime at={s.createdAt} />
        </p>
        <p>
          Change set {rollout?.changesetName} <code>{rollout?.changesetSha256}</code>
        </p>
        <p>Notes: {s.notes || "—"}</p>
        <p>
          Audit row hash <code data-testid="signoff-hash">{s.auditHash}</code> · chain{" "}
          {verdict.ok ? (
            <span className="ok">intact ({verdict.rows} rows)</span>
          ) : (
            <span className="bad">BROKEN at row {verdict.firstBadId}</span>
          )}{" "}
          (whole chain recomputed at <LocalTime at={verdict.wholeChainAt} part="time" />, rows since then checked now)
        </p>
      </div>
      <div className="card">
        <h2>Checklist</h2>
        <ChecklistTable items={s.checklist} />
      </div>
      <div className="card">
        <h2>Approvals</h2>
        <ul>
          {approvals.map((a) => (
            <li key={a.id}>
              {a.approver} ({a.approverRole}) {a.decision}d at <LocalTime at={a.createdAt} />: {a.comment}
            </li>
          ))}
        </ul>
      </div>
    </>
  );
}
