import { formatUtc } from "@/lib/format";
import Link from "next/link";
import { can } from "@/lib/auth/policy";
import { storePool } from "@/lib/store/pool";
import { dueFollowups, FOLLOWUPS } from "@/lib/monitor/followups";
import { pageActor } from "@/app/lib/session";

/** What needs attention now, for the person looking. */
export default async function Home() {
  const { actor } = await pageActor("rollouts:read");
  const pool = storePool();
  const [followups, awaiting, running, failed, invalid] = await Promise.all([
    dueFollowups(pool),
    pool.query<{ id: number; targetId: string; name: string; requestedBy: string }>(
      `SELECT r.id, r.target_id AS "targetId", r.changeset_name AS name, r.requested_by AS "requestedBy"
         FROM rollout r
        WHERE r.state = 'awaiting_approval' AND r.requested_by <> $1
          AND NOT EXISTS (SELECT 1 FROM approval a WHERE a.rollout_id = r.id AND a.approver = $1)
        ORDER BY r.id`,
      [actor.email],
    ),
    pool.query<{ id: number; targetId: string; name: string; state: string }>(
      `SELECT id, target_id AS "targetId", changeset_name AS name, state FROM rollout WHERE state IN ('applying', 'verifying') ORDER BY id`,
    ),
    pool.query<{ id: number; targetId: string; name: string; error: string | null }>(
      `SELECT id, target_id AS "targetId", changeset_name AS name, error FROM rollout WHERE state = 'failed' AND updated_at > now() - interval '7 days' ORDER BY id DESC`,
    ),
    pool.query<{ targetId: string; indexKey: string }>(
      `SELECT DISTINCT target_id AS "targetId", index_key AS "indexKey" FROM usage_last WHERE NOT valid ORDER BY 1, 2`,
    ),
  ]);
  const mayApprove = can(actor.role, "rollout:approve");
  const section = (title: string, count: number, items: React.ReactNode) => (
    <div className="card" data-attention={title}>
      <h2 style={{ fontSize: 16, marginTop: 0 }}>
        {title}: {count}
      </h2>
      {count > 0 && <ul>{items}</ul>}
    </div>
  );
  return (
    <>
      <h1>Needs attention</h1>
      <p className="who">
        Signed in as {actor.email} ({actor.role}).
      </p>
      {mayApprove &&
        section(
          "Awaiting your approval",
          awaiting.rows.length,
          awaiting.rows.map((r) => (
            <li key={r.id}>
              <Link href={`/rollouts/${r.id}`}>
                #{r.id} {r.name} → {r.targetId}
              </Link>{" "}
              (requested by {r.requestedBy})
            </li>
          )),
        )}
      {section(
        "Builds running",
        running.rows.length,
        running.rows.map((r) => (
          <li key={r.id}>
            <Link href={`/rollouts/${r.id}`}>
              #{r.id} {r.name} → {r.targetId}
            </Link>
            : {r.state}
          </li>
        )),
      )}
      {section(
        "Failed in the last 7 days",
        failed.rows.length,
        failed.rows.map((r) => (
          <li key={r.id}>
            <Link href={`/rollouts/${r.id}`}>
              #{r.id} {r.name} → {r.targetId}
            </Link>
            : {r.error}
          </li>
        )),
      )}
      {section(
        "INVALID indexes on targets",
        invalid.rows.length,
        invalid.rows.map((r) => (
          <li key={`${r.targetId}.${r.indexKey}`}>
            <Link href={`/indexes?target=${r.targetId}`}>
              {r.indexKey} on {r.targetId}
            </Link>
          </li>
        )),
      )}
      {can(actor.role, "rollout:run") &&
        section(
          "Follow-ups due",
          followups.length,
          followups.map((f) => (
            <li key={f.id}>
              <Link href={`/rollouts/${f.rolloutId}`}>
                #{f.rolloutId} on {f.targetId}
              </Link>
              : {FOLLOWUPS[f.kind].label}, due {formatUtc(f.dueAt, "minute")} UTC
            </li>
          )),
        )}
    </>
  );
}
