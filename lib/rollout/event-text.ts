import type { SeenSession } from "../auth/blockers";
import { formatBytes, formatDuration, formatMs } from "../text/format";
import type { EventData, EventKind } from "./events";
import type { PauseReason } from "./pacing";

/** How an event reads in the log: its sentence, and whether it reports an error (the "errors only" filter). */
export interface EventSentence {
  text: string;
  tone: "info" | "ok" | "warn" | "error";
}

const info = (text: string): EventSentence => ({ text, tone: "info" });
const ok = (text: string): EventSentence => ({ text, tone: "ok" });
const warn = (text: string): EventSentence => ({ text, tone: "warn" });
const error = (text: string): EventSentence => ({ text, tone: "error" });

const indexName = (index: string | null | undefined) => index ?? "the statement";

/** A blocking session as a DBA looks for it: pid, application (or user), state and how old its transaction is. */
export function describeBlocker(b: SeenSession): string {
  const who = [
    b.application || b.user || "unknown application",
    b.state,
    b.xactAgeSeconds !== null ? `in a transaction for ${formatDuration(b.xactAgeSeconds)}` : null,
  ];
  return `pid ${b.pid} (${who.filter(Boolean).join(", ")})`;
}

const blockedBy = (blockers: SeenSession[]) => (blockers.length ? `; blocked by ${blockers.map(describeBlocker).join(", ")}` : "");

const counted = (done: number, total: number, unit: string) =>
  total > 0 ? `, ${done.toLocaleString("en")} of ${total.toLocaleString("en")} ${unit}` : "";

function progressFigures(d: EventData["progress"]): string {
  return (
    counted(d.blocksDone, d.blocksTotal, "blocks") +
    counted(d.tuplesDone, d.tuplesTotal, "tuples") +
    counted(d.lockersDone, d.lockersTotal, "transactions waited for")
  );
}

/** One condition of a pause as the live page shows it: "orders_prod_r1 lag 14 s > 10 s". */
export function pauseReasonText(r: PauseReason): string {
  switch (r.code) {
    case "replica_lag":
      return `${r.node} lag ${Math.round(r.lagSeconds)} s > ${r.limitSeconds} s`;
    case "replica_unreadable":
      return `${r.node} lag unknown (${r.error})`;
    case "wraparound_vacuum":
      return `an anti-wraparound autovacuum is running on ${r.table} (pid ${r.pid})`;
    case "active_connections":
      return `${r.active} active connections > ${r.limit}`;
  }
}

/** What the live page shows for a paused statement. */
export const pausedPhase = (reasons: PauseReason[]) => `paused: ${reasons.map(pauseReasonText).join("; ")}`;

/**
 * One sentence per event kind. The mapped type makes it exhaustive: an event kind added to EventData
 * without a sentence here fails to compile.
 */
export const EVENT_SENTENCES: { [K in EventKind]: (data: EventData[K]) => EventSentence } = {
  created: (d) => info(`${d.by} created the rollout (${d.state.replace(/_/g, " ")}).`),
  approved_by: (d) => ok(`${d.by} approved (${d.approvals} of ${d.required} approvals).`),
  rejected: (d) => warn(`${d.by} rejected the rollout.`),
  phase_requested: (d) => info(`${d.by} requested ${d.phase}.`),
  cancel_requested: (d) => warn(`${d.by} asked to cancel the running build.`),
  phase_start: (d) =>
    info(
      `${d.phase} started${d.attempt > 1 ? ` (attempt ${d.attempt})` : ""}${d.reclaimed ? " after the server that ran it stopped" : ""}.`,
    ),
  phase_error: (d) => error(`${d.phase} failed: ${d.error}`),
  precheck_done: (d) => (d.ok ? ok("Pre-check passed.") : error("Pre-check failed; see the checks below.")),
  target_busy: (d) => warn(`The target is busy: ${d.error}`),
  session: (d) => info(`Apply session opened: pid ${d.pid} as ${d.user}, application ${d.applicationName}, search_path ${d.searchPath}.`),
  statement_start: (d) => info(`Line ${d.line}: statement started${d.attempt > 1 ? ` (attempt ${d.attempt})` : ""}.`),
  statement_done: (d) => ok(`Line ${d.line}: statement finished.`),
  skipped_exists: (d) => info(`${indexName(d.index)} already exists and is valid; skipped.`),
  invalid_found: (d) => warn(`${indexName(d.index)} is INVALID: ${d.reason}; dropping it.`),
  invalid_dropped: (d) => warn(`Dropped the INVALID ${indexName(d.index)}${d.reason ? ` (${d.reason})` : ""}.`),
  invalid_left: (d) => error(`${indexName(d.index)} is still INVALID on the target: ${d.error}`),
  invalid_check_failed: (d) => error(`Could not check whether ${indexName(d.index)} was left INVALID: ${d.message}`),
  index_ready: (d) => ok(`${indexName(d.index)} is ready and valid${d.bytes !== null ? `, ${formatBytes(d.bytes)}` : ""}.`),
  lock_timeout: (d) => warn(`Attempt ${d.attempt} hit lock_timeout${blockedBy(d.blockers)}.`),
  connection_lost: (d) => error(`The connection to the target was lost: ${d.message}`),
  task_failed: (d) => error(`Failed: ${d.error} ${d.advice}`),
  cancelled: () => warn("The build was cancelled as requested."),
  progress: (d) =>
    info(
      `${indexName(d.index)}: ${d.phase}, ${d.percent}%${progressFigures(d)}${d.waitEvent ? `; waiting on ${d.waitEventType}/${d.waitEvent}` : ""}${blockedBy(d.blockers)}.`,
    ),
  cancel_sent: (d) => warn(d.delivered ? `Cancelled indexdeck's own backend, pid ${d.pid}.` : `Could not cancel backend pid ${d.pid}.`),
  task_status: (d) =>
    d.status === "failed"
      ? error(`Status: failed${d.error ? ` (${d.error})` : ""}.`)
      : info(`Status: ${d.status.replace(/_/g, " ")}${d.error ? ` (${d.error})` : ""}.`),
  apply_done: (d) =>
    d.ok
      ? ok("Apply finished; verify is queued.")
      : error(`Apply ended ${d.state}: ${d.error ?? "no error recorded"}${d.advice ? ` ${d.advice}` : ""}`),
  reconcile_start: (d) => warn(`Reconciling after a server restart: looking for sessions of ${d.applicationName}.`),
  reconcile_follow: (d) =>
    info(
      `Following pid ${d.pid} still running on the target${d.phase ? `: ${d.phase}${d.percent !== null ? `, ${d.percent}%` : ""}` : ""}.`,
    ),
  reconcile_task: (d) => info(`${indexName(d.index)}${d.partition ? ` on ${d.partition}` : ""}: ${d.outcome}.`),
  partitions_differ: (d) => error(`The partitions differ from pre-check: ${d.error}`),
  partition_start: (d) =>
    info(`Step ${d.step + 1}${d.steps ? ` of ${d.steps}` : ""}: ${d.kind} ${d.index} on ${d.schema}.${d.table} started.`),
  partition_ready: (d) =>
    ok(
      `Step ${d.step + 1}${d.steps ? ` of ${d.steps}` : ""}: ${d.index} on ${d.schema}.${d.table} done${d.bytes ? `, ${formatBytes(d.bytes)}` : ""}.`,
    ),
  partition_kept: (d) => info(`Step ${d.step + 1}: ${d.index} on ${d.schema}.${d.table} was already done; kept, not rebuilt.`),
  verify_done: (d) => (d.ok ? ok("Verify passed.") : error("Verify found problems; see the checks below.")),
  probe_start: (d) => info(`Measuring p95 ${d.phase} the build: ${d.workloads} query pattern${d.workloads === 1 ? "" : "s"}.`),
  probe_done: (d) =>
    info(
      `Measured p95 ${d.phase} the build: ${d.results.map((r) => `${r.workload} ${formatMs(r.p95Ms)} (${r.samples} samples)`).join("; ")}.`,
    ),
  rollback_task: (d) =>
    d.status === "failed"
      ? error(`Rollback step failed${d.error ? `: ${d.error}` : ""}.`)
      : info(`Rollback step: ${d.status ?? "started"}.`),
  paused: (d) => warn(`Line ${d.line} waits, ${pausedPhase(d.reasons)}; it resumes by itself when that clears.`),
  resumed: (d) => info(`Line ${d.line} resumed after ${formatDuration(d.pausedSeconds)} paused.`),
  rollback_done: (d) =>
    d.ok
      ? ok(`Rolled back: dropped ${d.dropped.length ? d.dropped.join(", ") : "nothing (this rollout created no index)"}.`)
      : error("Rollback failed; see the rollout's error."),
};

/**
 * The sentence for one event, from EVENT_SENTENCES. appendEvent checked (kind, data) when it was written;
 * a row from an older version that lacks a field still gets a line (its raw data stays one click away).
 */
export function describeEvent(e: { kind: EventKind; data: unknown }): EventSentence {
  const say = EVENT_SENTENCES[e.kind] as ((data: unknown) => EventSentence) | undefined;
  try {
    if (say) return say(e.data);
  } catch {
    // falls through to the plain line
  }
  return info(`${String(e.kind).replace(/_/g, " ")} (see the raw data).`);
}
