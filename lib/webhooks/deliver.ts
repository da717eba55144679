import type pg from "pg";
import { finishJob, retryJobLater, type Job } from "../jobs/queue";
import { withTransaction } from "../store/pool";
import { loadWebhooks, type WebhookConfig } from "../targets/config";
import { deliveryBody, signature, type DeliveryPayload } from "./notify";

export interface DeliveryOptions {
  webhooks?: () => WebhookConfig[];
  /** A receiver that has not answered by then has failed this attempt. */
  timeoutMs?: number;
  /** The wait before the first retry; each next one waits twice as long, up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Attempts in all, the first included; after the last the delivery is given up (and stays on the page). */
  maxAttempts?: number;
}

export const DELIVERY_DEFAULTS = { timeoutMs: 5000, backoffMs: 5000, maxBackoffMs: 15 * 60_000, maxAttempts: 10 } as const;

/** INDEXDECK_WEBHOOK_TIMEOUT_MS and INDEXDECK_WEBHOOK_BACKOFF_MS, when set to a whole number of ms (at least 10). */
export function deliveryOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): DeliveryOptions {
  const ms = (v: string | undefined, fallback: number) => (v && Number.isInteger(Number(v)) && Number(v) >= 10 ? Number(v) : fallback);
  return {
    timeoutMs: ms(env.INDEXDECK_WEBHOOK_TIMEOUT_MS, DELIVERY_DEFAULTS.timeoutMs),
    backoffMs: ms(env.INDEXDECK_WEBHOOK_BACKOFF_MS, DELIVERY_DEFAULTS.backoffMs),
  };
}

/** The wait after failed attempt `attempt` (1-based): exponential, capped. */
export function backoffAfter(attempt: number, base: number, cap: number): number {
  return Math.min(cap, base * 2 ** (attempt - 1));
}

type Outcome = { httpStatus: number | null; error: string | null };

/**
 * One POST, with no redirect followed (a receiver can't send the signed body on to another host) and a
 * timeout over the whole exchange. Only the status is read: a receiver's body is never buffered.
 */
async function post(webhook: WebhookConfig, secret: string, p: DeliveryPayload, timeoutMs: number): Promise<Outcome> {
  const body = deliveryBody(webhook.format, p);
  try {
    const res = await fetch(webhook.url, {
      method: "POST",
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
      headers: {
        "content-type": "application/json",
        "user-agent": "indexdeck-webhook",
        "x-indexdeck-event": p.event,
        "x-indexdeck-delivery": p.deliveryId,
        "x-indexdeck-signature": signature(secret, body),
      },
      body,
    });
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return { httpStatus: res.status, error: null };
    if (res.status >= 300 && res.status < 400)
      return { httpStatus: res.status, error: "the receiver answered with a redirect, which is not followed" };
    return { httpStatus: res.status, error: `the receiver answered HTTP ${res.status}` };
  } catch (err) {
    if ((err as Error).name === "TimeoutError") return { httpStatus: null, error: `no answer within ${timeoutMs} ms` };
    // fetch says only "fetch failed"; the cause has the reason (ECONNREFUSED, a DNS failure, TLS).
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return { httpStatus: null, error: redactUrl(cause?.code ?? cause?.message ?? (err as Error).message, webhook.url) };
  }
}

// A Slack URL is itself a credential: an error that quotes it shows only its origin.
function redactUrl(text: string, url: string): string {
  return text.split(url).join(`${new URL(url).origin}/…`);
}

/**
 * Runs one delivery job: sends it, records the attempt, and in the same transaction finishes the job
 * or puts it back with a backoff. The URL and secret are read from the targets file and environment
 * at send time, so a fixed secret or receiver takes effect on the next retry.
 */
export async function deliverJob(pool: pg.Pool, job: Job, opts: DeliveryOptions = {}): Promise<void> {
  const o = { ...DELIVERY_DEFAULTS, ...opts };
  const p = job.payload as unknown as DeliveryPayload;
  const webhook = (opts.webhooks ?? loadWebhooks)().find((w) => w.id === p.webhookId);
  const secret = webhook ? process.env[webhook.secretEnv] : undefined;
  const started = new Date();
  const t0 = performance.now();
  const outcome: Outcome = !webhook
    ? { httpStatus: null, error: `webhook ${p.webhookId} is no longer in the targets file` }
    : !secret
      ? { httpStatus: null, error: `environment variable ${webhook.secretEnv} (the webhook's secret) is not set` }
      : await post(webhook, secret, p, o.timeoutMs);
  const durationMs = performance.now() - t0;
  const delivered = outcome.error === null;
  const again = !delivered && !!webhook && job.attempts < o.maxAttempts;
  await withTransaction(pool, async (tx) => {
    await tx.query(
      `INSERT INTO webhook_attempt (job_id, delivery_id, webhook_id, event, rollout_id, target_id, attempt, started_at, duration_ms, http_status, outcome, error)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        job.id,
        p.deliveryId,
        p.webhookId,
        p.event,
        p.rolloutId,
        p.targetId,
        job.attempts,
        started,
        durationMs,
        outcome.httpStatus,
        delivered ? "delivered" : again ? "retrying" : "gave_up",
        outcome.error,
      ],
    );
    if (again) await retryJobLater(tx, job.id, backoffAfter(job.attempts, o.backoffMs, o.maxBackoffMs), outcome.error!);
    else await finishJob(tx, job.id, outcome.error);
  });
}

export interface WebhookAttempt {
  id: number;
  deliveryId: string;
  webhookId: string;
  event: string;
  rolloutId: number | null;
  targetId: string;
  attempt: number;
  startedAt: Date;
  durationMs: number;
  httpStatus: number | null;
  outcome: "delivered" | "retrying" | "gave_up";
  error: string | null;
}

/** The newest delivery attempts, for the admins' page. */
export async function recentAttempts(db: Pick<pg.Pool, "query">, limit = 200): Promise<WebhookAttempt[]> {
  const { rows } = await db.query<WebhookAttempt>(
    `SELECT
       id,
       delivery_id  AS "deliveryId",
       webhook_id   AS "webhookId",
       event,
       rollout_id   AS "rolloutId",
       target_id    AS "targetId",
       attempt,
       started_at   AS "startedAt",
       duration_ms  AS "durationMs",
       http_status  AS "httpStatus",
       outcome,
       error
     FROM webhook_attempt
    ORDER BY id DESC
    LIMIT $1`,
    [limit],
  );
  return rows;
}

/** The configured webhooks as an admin may see them: the receiver's origin only (a Slack URL's path is its credential), never the secret. */
export function webhookOverview(webhooks = loadWebhooks()) {
  return webhooks.map((w) => ({
    id: w.id,
    format: w.format,
    events: w.events,
    targets: w.targets ?? null,
    receiver: new URL(w.url).origin,
    secretEnv: w.secretEnv,
    secretSet: !!process.env[w.secretEnv],
  }));
}
