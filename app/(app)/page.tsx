import Link from "next/link";
import { LocalTime } from "@/components/local-time";
import { FOLLOWUPS } from "@/lib/monitor/followups";
import { awaitingViewer, fleetOverview, type FleetTarget } from "@/lib/monitor/fleet";
import { storePool } from "@/lib/store/pool";
import { pageActor } from "@/app/lib/session";
import { governingTargets } from "@/lib/targets/source";

/** Is everything all right? The fleet, target by target, and what waits on the person looking. */
export default async function Home() {
  const { actor } = await pageActor("rollouts:read");
  const pool = storePool();
  const targets = governingTargets(pool);
  const [fleet, awaiting] = await Promise.all([fleetOverview(pool, targets), awaitingViewer(pool, targets, actor)]);
  const section = (key: string, title: string, items: React.ReactNode[] | null) =>
    items && (
      <div className="card" data-attention={key}>
        <h2>
          {title}: <span data-testid={`${key}-count`}>{items.length}</span>
        </h2>
        {items.length > 0 && <ul>{items}</ul>}
      </div>
    );
  return (
    <>
      <h1>Is everything all right?</h1>
      <p className="who">
        Signed in as {actor.email} ({actor.role}).
      </p>
      {section(
        "approvals",
        "Awaiting your approval",
        awaiting.approvals?.map((r) => (
          <li key={r.id}>
            <Link href={`/rollouts/${r.id}`}>
              #{r.id} {r.changeset} → {r.targetId}
            </Link>{" "}
            (requested by {r.requestedBy})
          </li>
        )) ?? null,
      )}
      {section(
        "signoffs",
        "Verified, awaiting sign-off",
        awaiting.signoffs?.map((r) => (
          <li key={r.id}>
            <Link href={`/rollouts/${r.id}`}>
              #{r.id} {r.changeset} → {r.targetId}
            </Link>{" "}
            (verified <LocalTime at={r.updatedAt} part="minute" />)
          </li>
        )) ?? null,
      )}
      {section(
        "followups",
        "Follow-ups due",
        awaiting.followups?.map((f) => (
          <li key={f.id}>
            <Link href={`/rollouts/${f.rolloutId}`}>
              #{f.rolloutId} on {f.targetId}
            </Link>
            : {FOLLOWUPS[f.kind].label}, due <LocalTime at={f.dueAt} part="minute" />
          </li>
        )) ?? null,
      )}
      <h2>Targets</h2>
      {fleet.length === 0 && <p className="card">No targets configured. Add them to indexdeck.targets.json (see README).</p>}
      {fleet.length > 0 && (
        <table data-testid="fleet">
          <thead>
            <tr>
              <th>Target</th>
              <th>Server</th>
              <th>Usage collector</th>
              <th>INVALID indexes</th>
              <th>Rollouts in flight</th>
              <th>Last rollout</th>
            </tr>
          </thead>
          <tbody>
            {fleet.map((t) => (
              <FleetRow key={t.id} t={t} />
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function FleetRow({ t }: { t: FleetTarget }) {
  return (
    <tr data-target={t.id}>
      <td>
        <Link href={`/targets/${t.id}`}>
          <strong>{t.label}</strong>
        </Link>{" "}
        <span className="badge">{t.environment}</span>
      </td>
      <td data-testid="server">
        {t.reachable ? <span className="ok">up, PostgreSQL {t.serverVersion}</span> : <span className="bad">down: {t.error}</span>}
      </td>
      <td data-testid="collector">
        {!t.collector ? (
          "not collected yet"
        ) : t.collector.failing ? (
          <span className="bad">
            failing since <LocalTime at={t.collector.failing.at} />: {t.collector.failing.error}
          </span>
        ) : (
          <span className="ok">last snapshot {t.collector.lastOkAt ? <LocalTime at={t.collector.lastOkAt} /> : "none yet"}</span>
        )}
      </td>
      <td data-testid="invalid">
        <Link href={`/indexes?target=${t.id}&tab=reports&show=invalid`} className={t.invalidIndexes ? "bad" : "ok"}>
          {t.invalidIndexes}
        </Link>
      </td>
      <td data-testid="in-flight">
        {t.inFlight.length === 0
          ? "none"
          : t.inFlight.map((r) => (
              <div key={r.id}>
                <Link href={`/rollouts/${r.id}`}>
                  #{r.id} {r.changeset}
                </Link>{" "}
                <span className={`badge state-${r.state}`}>{r.state}</span>{" "}
                <progress max={100} value={Math.round(r.percent)} aria-label={`rollout ${r.id} progress`} /> {Math.round(r.percent)}%
              </div>
            ))}
      </td>
      <td data-testid="last">
        {t.lastFinished ? (
          <>
            <Link href={`/rollouts/${t.lastFinished.id}`}>
              #{t.lastFinished.id} {t.lastFinished.changeset}
            </Link>{" "}
            <span className={`badge state-${t.lastFinished.state}`}>{t.lastFinished.state}</span>{" "}
            <LocalTime at={t.lastFinished.updatedAt} part="minute" />
          </>
        ) : (
          "none yet"
        )}
      </td>
    </tr>
  );
}
