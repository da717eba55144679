"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useEffect, useMemo, useState } from "react";
import type { SeenSession } from "@/lib/auth/blockers";
import { formatDuration } from "@/lib/text/format";
import { pausedPhase } from "@/lib/rollout/event-text";
import type { EventKind } from "@/lib/rollout/events";
import { buildWait } from "@/lib/rollout/build-phases";
import { buildTimeline } from "@/lib/rollout/timeline";
import { BuildTimeline } from "./build-timeline";
import { EventLog, type WireEvent } from "./event-log";

type LiveEvent = WireEvent;
type Blocker = SeenSession;

export interface TaskInfo {
  seq: number;
  kind: string;
  indexName: string | null;
  statement: string;
  status: string;
}

// Events after which the server-rendered parts (state, results, buttons) must be read again.
const REFRESH_ON = new Set<EventKind>([
  "precheck_done",
  "apply_done",
  "verify_done",
  "rollback_done",
  "phase_error",
  "target_busy",
  "phase_requested",
  "cancel_requested",
]);

interface TaskView {
  status: string;
  phase: string | null;
  percent: number;
  etaSeconds: number | null;
  blockers: Blocker[];
  /** What the build waits on now, if anything (lib/rollout/build-phases.ts buildWait). */
  wait: ReturnType<typeof buildWait>;
  samples: Array<[number, number]>;
  /** A build expanded over partitions: each partition's own bar (the task's percent is the whole's). */
  partitions: Map<string, { percent: number; phase: string }>;
}

/** Folds the event history into what each task shows now: status, phase, percent, ETA, blockers. */
function fold(tasks: TaskInfo[], events: LiveEvent[]): Map<number, TaskView> {
  const view = new Map<number, TaskView>(
    tasks.map((t) => [
      t.seq,
      {
        status: t.status,
        phase: null,
        percent: t.status === "done" ? 100 : 0,
        etaSeconds: null,
        blockers: [],
        wait: null,
        samples: [],
        partitions: new Map(),
      },
    ]),
  );
  for (const e of events) {
    const v = e.taskSeq === null ? undefined : view.get(e.taskSeq);
    if (!v) continue;
    if (e.kind === "task_status") v.status = e.data.status;
    if (e.kind === "statement_start") v.samples = [];
    if (e.kind === "paused") v.phase = pausedPhase(e.data.reasons);
    if (e.kind === "resumed") v.phase = "resumed";
    if (e.kind === "progress") {
      v.phase = e.data.phase;
      v.percent = e.data.percent;
      v.blockers = e.data.blockers;
      v.wait = buildWait(e.data);
      v.samples.push([Date.parse(e.at), v.percent]);
      if (e.data.partition) v.partitions.set(String(e.data.partition), { percent: Number(e.data.partitionPercent ?? 0), phase: v.phase });
    }
    // A partition's build finished now, or (resumed apply) before.
    if ((e.kind === "partition_ready" || e.kind === "partition_kept") && e.data.kind === "build")
      v.partitions.set(`${e.data.schema}.${e.data.table}`, { percent: 100, phase: e.kind === "partition_kept" ? "built earlier" : "done" });
    if (e.kind === "index_ready" || e.kind === "statement_done" || e.kind === "skipped_exists") {
      v.percent = 100;
      v.blockers = [];
      v.wait = null;
      v.phase = e.kind === "skipped_exists" ? "already existed" : "done";
    }
  }
  for (const v of view.values()) {
    const [first, last] = [v.samples[0], v.samples[v.samples.length - 1]];
    if (first && last && last[1] > first[1] && v.percent < 100) {
      const rate = (last[1] - first[1]) / ((last[0] - first[0]) / 1000);
      v.etaSeconds = Math.round((100 - last[1]) / rate);
    }
  }
  return view;
}

/**
 * The live part of a rollout page: one EventSource (history first, then live; the browser
 * reconnects with Last-Event-ID), events kept in React Query, progress bars, blockers and a log.
 */
export function RolloutLive({ rolloutId, tasks }: { rolloutId: number; tasks: TaskInfo[] }) {
  const router = useRouter();
  const client = useQueryClient();
  const key = useMemo(() => ["rollout-events", rolloutId], [rolloutId]);
  const { data: events = [] } = useQuery<LiveEvent[]>({
    queryKey: key,
    queryFn: () => client.getQueryData<LiveEvent[]>(key) ?? [],
    staleTime: Infinity,
  });

  useEffect(() => {
    const source = new EventSource(`/api/rollouts/${rolloutId}/events`);
    source.addEventListener("rollout", (msg) => {
      const e = JSON.parse((msg as MessageEvent).data) as LiveEvent;
      client.setQueryData<LiveEvent[]>(key, (old = []) => (old.some((x) => x.id === e.id) ? old : [...old, e]));
      if (REFRESH_ON.has(e.kind)) router.refresh();
    });
    return () => source.close();
  }, [rolloutId, client, key, router]);

  const view = fold(tasks, events);
  const timeline = buildTimeline(tasks, events);
  const running = timeline.some((t) => t.segments.some((s) => s.to === null));
  // The open phase of a running build grows on the timeline between events.
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [running]);
  const waiting = [...view.entries()].find(
    ([, v]) => v.blockers.length && v.percent < 100 && (v.status === "waiting_for_lock" || v.wait !== null),
  );
  return (
    <>
      <div className="card">
        <h2>Statements</h2>
        <table data-testid="tasks">
          <thead>
            <tr>
              <th>#</th>
              <th>Statement</th>
              <th>Status</th>
              <th className="progress-column">Progress</th>
            </tr>
          </thead>
          <tbody>
            {tasks.map((t) => {
              const v = view.get(t.seq)!;
              return (
                <tr key={t.seq} data-task={t.seq}>
                  <td>{t.seq + 1}</td>
                  <td>
                    <code>{t.indexName ?? t.statement.slice(0, 60)}</code>
                  </td>
                  <td>
                    <span className="badge" data-testid="task-status">
                      {v.status}
                    </span>
                  </td>
                  <td>
                    {t.kind === "create_index" || t.kind === "drop_index" || t.kind === "reindex" ? (
                      <>
                        <div
                          className="bar"
                          role="progressbar"
                          aria-label={`${t.indexName ?? "statement"} progress`}
                          aria-valuemin={0}
                          aria-valuemax={100}
                          aria-valuenow={v.percent}
                        >
                          <div style={{ width: `${v.percent}%` }} />
                        </div>
                        <small>
                          {v.partitions.size ? `${v.partitions.size} partition(s) · ` : ""}
                          {v.phase ?? "—"} · {v.percent}%{v.etaSeconds !== null ? ` · ETA ${formatDuration(v.etaSeconds)}` : ""}
                        </small>
                        {v.partitions.size > 0 && (
                          <ul className="partitions" data-testid="partitions">
                            {[...v.partitions].map(([name, p]) => (
                              <li key={name} data-partition={name}>
                                <code>{name}</code>
                                <div
                                  className="bar"
                                  role="progressbar"
                                  aria-label={`${name} progress`}
                                  aria-valuemin={0}
                                  aria-valuemax={100}
                                  aria-valuenow={p.percent}
                                >
                                  <div style={{ width: `${p.percent}%` }} />
                                </div>
                                <small>
                                  {p.phase} · {p.percent}%
                                </small>
                              </li>
                            ))}
                          </ul>
                        )}
                      </>
                    ) : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {waiting && (
        <div className="card blockers" data-testid="blockers" role="region" aria-label="Blockers">
          <h2>Blocked: {waiting[1].phase}</h2>
          <p>These sessions hold the build back. indexdeck never ends them for you; decide with their owners.</p>
          <table>
            <thead>
              <tr>
                <th>pid</th>
                <th>user</th>
                <th>application</th>
                <th>state</th>
                <th>transaction age</th>
                <th>query</th>
              </tr>
            </thead>
            <tbody>
              {waiting[1].blockers.map((b) => (
                <tr key={b.pid}>
                  <td>{b.pid}</td>
                  <td>{b.user}</td>
                  <td>{b.application}</td>
                  <td>{b.state}</td>
                  <td>{b.xactAgeSeconds !== null ? formatDuration(b.xactAgeSeconds) : "—"}</td>
                  <td>{b.query === undefined ? <em>not shown to your role</em> : <code>{b.query}</code>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="card">
        <h2>Build timeline</h2>
        <BuildTimeline
          tasks={tasks.map((t) => ({ seq: t.seq, label: t.indexName ?? t.statement, status: view.get(t.seq)!.status }))}
          timeline={timeline}
          now={now}
        />
      </div>
      <EventLog events={events} tasks={tasks} />
    </>
  );
}
