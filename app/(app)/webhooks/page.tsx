import Link from "next/link";
import { Forbidden } from "@/components/forbidden";
import { LocalTime } from "@/components/local-time";
import { formatDuration } from "@/lib/text/format";
import { storePool } from "@/lib/store/pool";
import { recentAttempts, webhookOverview } from "@/lib/webhooks/deliver";
import { pageActor } from "@/app/lib/session";

export default async function WebhooksPage() {
  const { allowed } = await pageActor("webhooks:read");
  if (!allowed) return <Forbidden what="read webhook deliveries" />;
  const webhooks = webhookOverview();
  const attempts = await recentAttempts(storePool());
  return (
    <>
      <h1>Webhooks</h1>
      <p>
        Webhooks are declared in the targets file (<code>webhooks: [...]</code>, see README). Each delivery is signed with the secret from
        its environment variable and retried with backoff; every attempt is listed below.
      </p>
      {webhooks.length === 0 && <p className="card">No webhooks configured.</p>}
      {webhooks.length > 0 && (
        <table data-testid="webhooks">
          <thead>
            <tr>
              <th>Webhook</th>
              <th>Receiver</th>
              <th>Format</th>
              <th>Events</th>
              <th>Targets</th>
              <th>Secret</th>
            </tr>
          </thead>
          <tbody>
            {webhooks.map((w) => (
              <tr key={w.id} data-webhook={w.id}>
                <td>
                  <code>{w.id}</code>
                </td>
                <td>
                  <code>{w.receiver}</code>
                </td>
                <td>{w.format}</td>
                <td>{w.events.join(", ")}</td>
                <td>{w.targets ? w.targets.join(", ") : "all"}</td>
                <td>
                  <code>${w.secretEnv}</code> {w.secretSet ? <span className="ok">set</span> : <span className="bad">not set</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Delivery attempts</h2>
      {attempts.length === 0 && <p className="card">No deliveries yet.</p>}
      {attempts.length > 0 && (
        <table data-testid="webhook-attempts">
          <thead>
            <tr>
              <th>At</th>
              <th>Webhook</th>
              <th>Event</th>
              <th>Rollout / target</th>
              <th>Delivery</th>
              <th>Attempt</th>
              <th>Outcome</th>
              <th>HTTP</th>
              <th>Took</th>
              <th>Error</th>
            </tr>
          </thead>
          <tbody>
            {attempts.map((a) => (
              <tr key={a.id} data-delivery={a.deliveryId} data-outcome={a.outcome}>
                <td>
                  <LocalTime at={a.startedAt} />
                </td>
                <td>
                  <code>{a.webhookId}</code>
                </td>
                <td>{a.event}</td>
                <td>
                  {a.rolloutId !== null ? <Link href={`/rollouts/${a.rolloutId}`}>#{a.rolloutId}</Link> : null} on {a.targetId}
                </td>
                <td>
                  <code>{a.deliveryId}</code>
                </td>
                <td>{a.attempt}</td>
                <td>
                  <span className={a.outcome === "delivered" ? "ok" : "bad"}>{a.outcome.replace("_", " ")}</span>
                </td>
                <td>{a.httpStatus ?? "—"}</td>
                <td>{formatDuration(a.durationMs / 1000)}</td>
                <td>{a.error ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
