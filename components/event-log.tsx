"use client";

import { useLayoutEffect, useRef, useState } from "react";
import { describeEvent } from "@/lib/rollout/event-text";
import type { EventKind, RolloutEvent } from "@/lib/rollout/events";
import { LocalTime } from "./local-time";

export type WireEvent = RolloutEvent<EventKind, string>;

// How close to the bottom (px) still counts as "reading the newest": auto-scroll keeps following.
const FOLLOW_SLACK = 24;

/**
 * The rollout's events as sentences, oldest first, each with its raw JSON one click away. Follows new
 * events while the reader is at the bottom; stops following once they scroll up, and resumes when they
 * scroll back down. Filters: errors only, one statement's index.
 */
export function EventLog({ events, tasks }: { events: WireEvent[]; tasks: Array<{ seq: number; indexName: string | null }> }) {
  const [errorsOnly, setErrorsOnly] = useState(false);
  const [taskSeq, setTaskSeq] = useState<number | null>(null);
  const box = useRef<HTMLOListElement>(null);
  // The list's height when the last events were drawn: the reader was at the bottom iff they still are of it.
  const drawnHeight = useRef(0);
  const shown = events
    .map((e) => ({ e, sentence: describeEvent(e) }))
    .filter(({ e, sentence }) => (!errorsOnly || sentence.tone === "error") && (taskSeq === null || e.taskSeq === taskSeq));

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    // Where the reader is now, not what the last scroll event said: a scroll up whose event has not
    // fired yet when new events arrive must still stop the following.
    if (el.scrollTop + el.clientHeight >= drawnHeight.current - FOLLOW_SLACK) el.scrollTop = el.scrollHeight;
    drawnHeight.current = el.scrollHeight;
  }, [shown.length]);

  const indexes = tasks.filter((t) => t.indexName);
  return (
    <div className="card">
      <h2>Event log</h2>
      <p className="phase-form">
        <label>
          <input type="checkbox" checked={errorsOnly} onChange={(ev) => setErrorsOnly(ev.target.checked)} /> Errors only
        </label>
        <label>
          Index{" "}
          <select
            value={taskSeq ?? ""}
            onChange={(ev) => setTaskSeq(ev.target.value === "" ? null : Number(ev.target.value))}
            aria-label="Show the events of one index"
          >
            <option value="">all</option>
            {indexes.map((t) => (
              <option key={t.seq} value={t.seq}>
                {t.indexName}
              </option>
            ))}
          </select>
        </label>
        <span className="who" aria-live="polite">
          {shown.length} of {events.length} events
        </span>
      </p>
      <ol className="events" data-testid="event-log" ref={box} tabIndex={0} aria-label="Events, oldest first">
        {shown.map(({ e, sentence }) => (
          <li key={e.id} data-kind={e.kind} className={`event-${sentence.tone}`}>
            <LocalTime at={e.at} part="time" /> <span data-testid="event-text">{sentence.text}</span>
            <details>
              <summary>raw</summary>
              <pre data-testid="event-raw">{JSON.stringify({ kind: e.kind, taskSeq: e.taskSeq, data: e.data }, null, 2)}</pre>
            </details>
          </li>
        ))}
      </ol>
    </div>
  );
}
