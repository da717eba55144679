import { formatDuration } from "../text/format";
import type { EventData, EventKind } from "./events";
import { buildWait } from "./build-phases";

/** A stretch of one statement's run spent in one phase. */
export interface TimelineSegment {
  /** PostgreSQL's phase name from pg_stat_progress_create_index, or the step indexdeck itself was taking. */
  phase: string;
  /** Set while the build waits on other sessions rather than working (lib/rollout/build-phases.ts buildWait). */
  wait: "lock" | "transactions" | null;
  attempt: number;
  /** Epoch milliseconds. */
  from: number;
  /** Null while the phase is still going on. */
  to: number | null;
}

export interface TaskTimeline {
  seq: number;
  segments: TimelineSegment[];
}

/** indexdeck's own steps between PostgreSQL's phases, named once for the live page and the report. */
export const OWN_STEPS = {
  backoff: "lock_timeout: waiting to retry",
  cleanup: "dropping the INVALID index",
} as const;

const WAIT_TEXT: Record<NonNullable<TimelineSegment["wait"]>, string> = {
  lock: "waiting for a lock",
  transactions: "waiting for other transactions",
};

/** One phase in words, as the timeline's table and the Markdown report list it; a phase still going on is counted up to `now`. */
export function describeSegment(s: TimelineSegment, now: number): string {
  const attempt = s.attempt > 1 ? ` (attempt ${s.attempt})` : "";
  const took = `${formatDuration(((s.to ?? now) - s.from) / 1000)}${s.to === null ? " so far" : ""}`;
  return `${s.phase}${attempt}: ${took}${s.wait ? ` — ${WAIT_TEXT[s.wait]}` : ""}`;
}

// Events that end whatever the statement was doing.
const ENDS: ReadonlySet<EventKind> = new Set<EventKind>([
  "index_ready",
  "statement_done",
  "skipped_exists",
  "task_failed",
  "cancelled",
  "invalid_left",
  "invalid_dropped",
]);

/** What the fold reads of an event: stored (Date), streamed (ISO string) or kept by MemorySink (epoch ms). */
export type TimelineEvent = {
  [K in EventKind]: { kind: K; at: Date | string | number; taskSeq?: number | null; data: EventData[K] };
}[EventKind];

/**
 * Each statement's phases over time, folded from its events in order: a new segment whenever the phase
 * or what it waits for changes, closed by the next one or by the statement's end. Works on the stored
 * events (the report) and on those streamed so far (the live page: the last segment is still open).
 */
export function buildTimeline(tasks: ReadonlyArray<{ seq: number }>, events: ReadonlyArray<TimelineEvent>): TaskTimeline[] {
  const open = new Map<number, TimelineSegment>();
  const attempts = new Map<number, number>();
  const timeline = new Map<number, TimelineSegment[]>(tasks.map((t) => [t.seq, []]));
  const start = (seq: number, at: number, phase: string, wait: TimelineSegment["wait"]) => {
    close(seq, at);
    const segment = { phase, wait, attempt: attempts.get(seq) ?? 1, from: at, to: null };
    open.set(seq, segment);
    timeline.get(seq)!.push(segment);
  };
  const close = (seq: number, at: number) => {
    const segment = open.get(seq);
    if (segment) segment.to = at;
    open.delete(seq);
  };
  for (const e of events) {
    if (e.taskSeq === null || e.taskSeq === undefined || !timeline.has(e.taskSeq)) continue;
    const seq = e.taskSeq;
    const at = new Date(e.at).getTime();
    if (e.kind === "statement_start") {
      attempts.set(seq, e.data.attempt);
      start(seq, at, "starting", null);
    } else if (e.kind === "progress") {
      const wait = buildWait(e.data);
      const current = open.get(seq);
      if (!current || current.phase !== e.data.phase || current.wait !== wait) start(seq, at, e.data.phase, wait);
    } else if (e.kind === "lock_timeout") start(seq, at, OWN_STEPS.backoff, "lock");
    else if (e.kind === "invalid_found") start(seq, at, OWN_STEPS.cleanup, null);
    else if (ENDS.has(e.kind)) close(seq, at);
  }
  return [...timeline].map(([seq, segments]) => ({ seq, segments }));
}
