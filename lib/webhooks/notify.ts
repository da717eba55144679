/**
 * webhooks/ — receivers told of a rollout's news: queued in the transaction that makes the news,
 * delivered by a runner of their own.
 */
import { createHmac, randomUUID } from "node:crypto";
import type pg from "pg";
import { enqueueJob } from "../jobs/queue";
import type { RolloutState } from "../rollout/machine";
import type { Rollout } from "../rollout/rollouts";
import { loadWebhooks, type WebhookConfig, type WebhookEvent } from "../targets/config";
import { TargetsConfigError } from "../targets/urls";

/** What a delivery job carries: everything its body is built from, and no URL or secret (those stay in the targets file). */
export interface Notice {
  event: WebhookEvent;
  targetId: string;
  rolloutId: number | null;
  /** When it happened (ISO); the same on every retry. */
  at: string;
  changeset: string | null;
  /** The rollout's state after the change, where there is a rollout. */
  state: RolloutState | null;
  /** The phase that failed, when a phase failed. */
  phase: string | null;
  error: string | null;
  /** The INVALID index, for invalid_index. */
  index: string | null;
  /** Who may approve, for awaiting_approval. */
  approverRoles: string[] | null;
}

export interface DeliveryPayload extends Notice {
  webhookId: string;
  deliveryId: string;
}

/** The rollout states that are announced as they are entered. */
const STATE_EVENTS: Partial<Record<RolloutState, WebhookEvent>> = {
  awaiting_approval: "awaiting_approval",
  failed: "failed",
  verified: "verified",
  signed_off: "signed_off",
};

/** Whether webhooks hear of a rollout entering `state`: a move into any other state reads nothing more. */
export function isAnnouncedState(state: RolloutState): boolean {
  return STATE_EVENTS[state] !== undefined;
}

// Error texts can be long (a server's whole message); a notice says what failed, the page has the rest.
const MAX_ERROR_CHARS = 500;

/**
 * Queues one delivery per webhook that wants this event on this target, in the caller's transaction:
 * the notice exists exactly when the change it announces committed, and sending it later holds up
 * nothing. Returns how many were queued.
 */
export async function announce(tx: pg.ClientBase, notice: Notice, webhooks?: WebhookConfig[]): Promise<number> {
  if (!webhooks) {
    try {
      webhooks = loadWebhooks();
    } catch (err) {
      // A targets file broken mid-rollout must not fail the change being committed: the notice is lost, and said so.
      if (!(err instanceof TargetsConfigError)) throw err;
      console.error(`indexdeck: ${notice.event} on ${notice.targetId} not announced: ${err.message}`);
      return 0;
    }
  }
  const wanted = webhooks.filter((w) => w.events.includes(notice.event) && (!w.targets || w.targets.includes(notice.targetId)));
  for (const w of wanted) {
    const payload: DeliveryPayload = { ...notice, webhookId: w.id, deliveryId: randomUUID() };
    await enqueueJob(tx, "webhook", null, payload as unknown as Record<string, unknown>);
  }
  return wanted.length;
}

/**
 * The one hook of the rollout machine: announces the rollout's state if it is one webhooks hear of
 * (awaiting approval, failed, verified, signed off), or a phase that failed without changing it.
 */
export async function announceRollout(
  tx: pg.ClientBase,
  rollout: Rollout,
  extra: { failedPhase?: string; error?: string | null; approverRoles?: string[] } = {},
): Promise<number> {
  const event = extra.failedPhase ? "failed" : STATE_EVENTS[rollout.state];
  if (!event) return 0;
  const error = extra.error ?? (event === "failed" ? rollout.error : null);
  return announce(tx, {
    event,
    targetId: rollout.targetId,
    rolloutId: rollout.id,
    at: new Date().toISOString(),
    changeset: rollout.changesetName,
    state: rollout.state,
    phase: extra.failedPhase ?? null,
    error: error ? error.slice(0, MAX_ERROR_CHARS) : null,
    index: null,
    approverRoles: extra.approverRoles ?? null,
  });
}

/** The page a notice points at: the rollout, or the target's indexes; null when NEXTAUTH_URL is not set. */
export function noticeUrl(p: Pick<Notice, "rolloutId" | "targetId">, base = process.env.NEXTAUTH_URL): string | null {
  if (!base) return null;
  const path = p.rolloutId !== null ? `/rollouts/${p.rolloutId}` : `/indexes?target=${encodeURIComponent(p.targetId)}`;
  return new URL(path, base).toString();
}

const SENTENCES: Record<WebhookEvent, (p: DeliveryPayload) => string> = {
  awaiting_approval: (p) => `${rolloutName(p)} awaits approval${p.approverRoles ? ` (by ${p.approverRoles.join(" or ")})` : ""}`,
  failed: (p) => `${rolloutName(p)} failed${p.phase ? ` in ${p.phase}` : ""}${p.error ? `: ${p.error}` : ""}`,
  verified: (p) => `${rolloutName(p)} is verified`,
  signed_off: (p) => `${rolloutName(p)} was signed off`,
  invalid_index: (p) => `INVALID index ${p.index} found on ${p.targetId}`,
};

function rolloutName(p: DeliveryPayload): string {
  return `Rollout #${p.rolloutId} of ${p.changeset} on ${p.targetId}`;
}

/** One sentence saying what happened, as a person reads it. */
export function noticeSentence(p: DeliveryPayload): string {
  return SENTENCES[p.event](p);
}

// Slack reads &, < and > as markup: a change set's name must not become a link or a mention.
const slackEscape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** The request body: the generic JSON contract, or a Slack incoming-webhook message. */
export function deliveryBody(format: WebhookConfig["format"], p: DeliveryPayload, base = process.env.NEXTAUTH_URL): string {
  const url = noticeUrl(p, base);
  const summary = noticeSentence(p);
  if (format === "slack") return JSON.stringify({ text: `indexdeck: ${slackEscape(summary)}${url ? ` <${url}|open>` : ""}` });
  return JSON.stringify({
    event: p.event,
    deliveryId: p.deliveryId,
    rolloutId: p.rolloutId,
    targetId: p.targetId,
    at: p.at,
    url,
    summary,
    changeset: p.changeset,
    state: p.state,
    phase: p.phase,
    error: p.error,
    index: p.index,
    approverRoles: p.approverRoles,
  });
}

/** X-Indexdeck-Signature's value: the HMAC-SHA256 of the exact bytes sent, keyed with the webhook's secret. */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}
