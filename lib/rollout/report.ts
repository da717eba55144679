import type pg from "pg";
import { formatBytes, formatChange, formatMs, formatWhen } from "../text/format";
import { recentVerdict } from "../audit/recent-verdict";
import { lintCache } from "../changeset/lint-cache";
import { latencyComparison, sampleNote, type LatencyComparison } from "../monitor/latency";
import { listApprovals, type Approval } from "./approvals";
import { eventsAfter, type RolloutEvent } from "./events";
import type { OrphanedBuildEvidence } from "./reconcile";
import { recordedPlans } from "./partitions";
import { buildTimeline, describeSegment, type TaskTimeline } from "./timeline";
import { getRollout, rolloutTasks, type Rollout, type RolloutTask } from "./rollouts";
import { listSignoffs, type Signoff } from "./signoff";
import { TROUBLESHOOTING, troubleshootingFor } from "../text/troubleshooting";
import { can, type Role } from "../auth/policy";

/** Who may read the report's governance records (audit trail, overrides, sign-off notes): as for the audit log. */
export const GOVERNANCE_READ = "audit:read" as const;

/** A sign-off as the report shows it: notes and audit hash are null for a reader without GOVERNANCE_READ. */
export type ReportSignoff = Omit<Signoff, "notes" | "auditHash"> & { notes: string | null; auditHash: string | null };

export interface RolloutReport {
  rollout: Rollout;
  lint: { errors: number; warnings: number; rules: string[] };
  tasks: Array<RolloutTask & { duration: TaskDuration | null; phases: string[]; retries: number; bytes: number | null }>;
  /** Phases, and what a server restart did to them (takeovers, builds followed on the target), in order. */
  timeline: TimelineEntry[];
  /** Each statement's phases over time, from its events (lib/rollout/timeline.ts). */
  builds: TaskTimeline[];
  approvals: Approval[];
  latency: LatencyComparison[];
  signoffs: ReportSignoff[];
  /** Null when the reader's role may not read them (README's roles table: engineers may not). */
  governance: {
    overrides: Array<{ action: string; actor: string; reason: string; hash: string }>;
    auditRows: Array<{ id: number; action: string; actor: string | null; at: Date; hash: string }>;
    /** The Audit page's verdict: the whole chain as of `wholeChainAt`, and every row written since. */
    chain: { ok: boolean; rows: number; firstBadId: number | null; wholeChainAt: Date };
  } | null;
  /** The role the report was built for: what it leaves out says so by this. */
  reader: Role;
  generatedAt: Date;
}

export class ReportError extends Error {}

/**
 * How long a statement took, and on whose evidence. `watched`: a server ran it and saw it end (the store's
 * clock). `target`: it ended while no server watched (the server running it died); pg_stat_activity's
 * query_start and the looks that found it running and then gone bound its end (the target's clock).
 * `not_measured`: nobody saw it end; `atLeastSeconds` is how long it was seen running.
 */
export type TaskDuration =
  | { how: "watched"; seconds: number }
  | { how: "target"; fromSeconds: number; toSeconds: number }
  | { how: "not_measured"; atLeastSeconds: number | null };

/**
 * An event with its data read field by field: taskDuration and rolloutTimeline predate the per-kind
 * EventData (lib/rollout/events.ts) and read fields across kinds.
 */
type UntypedEvent = Omit<RolloutEvent, "data"> & { data: Record<string, unknown> };

/** What reconcile recorded of a build no server watched, as its event holds it: the times as JSON strings. */
type SeenOnTarget = { [K in keyof OrphanedBuildEvidence]: null extends OrphanedBuildEvidence[K] ? string | null : string };

const seconds = (from: string | Date, to: string | Date) => (new Date(to).getTime() - new Date(from).getTime()) / 1000;

/** A task's duration from its own run when a server watched it end, else from the target's evidence, else not measured. */
export function taskDuration(task: RolloutTask, events: UntypedEvent[]): TaskDuration | null {
  if (task.startedAt && task.finishedAt) return { how: "watched", seconds: seconds(task.startedAt, task.finishedAt) };
  // Settled by reconcile after a takeover, and not run again since (a run again restarts startedAt).
  const settled = events.findLast((e) => e.taskSeq === task.seq && e.data.seen);
  if (!settled || (task.startedAt && settled.at < task.startedAt)) return null;
  const seen = settled.data.seen as SeenOnTarget;
  if (seen.queryStart && seen.lastSeenRunningAt)
    return {
      how: "target",
      fromSeconds: seconds(seen.queryStart, seen.lastSeenRunningAt),
      toSeconds: seconds(seen.queryStart, seen.goneBy),
    };
  // Seen running by the server that died, up to its last word about this task (the store's clock, as startedAt).
  const last = events.findLast((e) => e.taskSeq === task.seq && e.kind === "progress");
  return { how: "not_measured", atLeastSeconds: task.startedAt && last ? seconds(task.startedAt, last.at) : null };
}

/** A duration as the report's tables show it. */
export function durationText(d: TaskDuration | null): string {
  if (!d) return "—";
  if (d.how === "watched") return `${d.seconds.toFixed(1)} s`;
  if (d.how === "target")
    return `${d.fromSeconds.toFixed(1)}–${d.toSeconds.toFixed(1)} s (the target's evidence: no server watched it end)`;
  return `not measured: it ended while no server watched it${d.atLeastSeconds === null ? "" : `, after running at least ${d.atLeastSeconds.toFixed(1)} s`}`;
}

export interface TimelineEntry {
  at: Date;
  kind: "phase_start" | "takeover" | "build_followed" | "build_settled" | "phase_end";
  text: string;
}

const PHASE_ENDS: Record<string, string> = {
  precheck_done: "pre-check",
  apply_done: "apply",
  verify_done: "verify",
  rollback_done: "rollback",
};

/** The rollout's phases in order, with a server's death and the takeover that followed it as events of their own. */
export function rolloutTimeline(events: UntypedEvent[]): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  const followed = new Set<unknown>();
  for (const e of events) {
    const d = e.data;
    if (e.kind === "phase_start" && d.reclaimed) {
      const silent = d.lastHeartbeatAt ? ` after ${seconds(String(d.lastHeartbeatAt), e.at).toFixed(1)} s without a heartbeat` : "";
      out.push({
        at: e.at,
        kind: "takeover",
        text: `takeover: the server running ${d.phase}${d.lostWorker ? ` (${d.lostWorker})` : ""} stopped${d.lastHeartbeatAt ? `; its last heartbeat was at ${formatWhen(new Date(String(d.lastHeartbeatAt)))}` : ""}; another server took the ${d.phase} over${silent} and reconciled from the target`,
      });
    } else if (e.kind === "phase_start") {
      out.push({ at: e.at, kind: "phase_start", text: `${d.phase} started` });
    } else if (e.kind === "reconcile_follow" && !followed.has(d.pid)) {
      followed.add(d.pid);
      out.push({
        at: e.at,
        kind: "build_followed",
        text: `a build the stopped server began was still running on the target (pid ${d.pid}${d.phase ? `, ${d.phase}` : ""}): followed to its end, no second build started`,
      });
    } else if (e.kind === "reconcile_task" || (e.kind === "invalid_dropped" && d.seen)) {
      const seen = d.seen as SeenOnTarget | undefined;
      const when = !seen
        ? ""
        : seen.lastSeenRunningAt
          ? `; it ended on the target in the ${seconds(seen.lastSeenRunningAt, seen.goneBy).toFixed(1)} s before ${formatWhen(new Date(seen.goneBy))} (the target's clock)${seen.queryStart ? `, ${seconds(seen.queryStart, seen.goneBy).toFixed(1)} s at most after its statement began` : ""}`
          : `; it had ended on the target before ${formatWhen(new Date(seen.goneBy))} (the target's clock), while no server watched`;
      out.push({ at: e.at, kind: "build_settled", text: `${d.index}: ${d.outcome ?? d.reason}${when}` });
    } else if (e.kind in PHASE_ENDS) {
      out.push({ at: e.at, kind: "phase_end", text: `${PHASE_ENDS[e.kind]} ${d.ok ? "finished" : "failed"}` });
    }
  }
  return out;
}

// lib/rollout/precheck.ts records a window override or a promotion waiver as a "warn" of one of these
// checks, with who and why in its summary: that is an override, a governance record like the audit row.
const OVERRIDABLE_CHECKS = new Set(["maintenance-window", "promotion"]);

// Sign-off checklist items whose evidence quotes a pre-check's summary (lib/rollout/signoff.ts hints).
const QUOTES_CHECK: Record<string, string> = { "off-peak": "maintenance-window" };

const overridden = (rollout: Rollout) =>
  new Set((rollout.precheck?.checks ?? []).filter((c) => OVERRIDABLE_CHECKS.has(c.id) && c.status === "warn").map((c) => c.id));

/** The rollout as a reader without GOVERNANCE_READ sees it: overridden checks say so, not who or why. */
function withoutOverrideReasons(rollout: Rollout, reader: Role): Rollout {
  if (!rollout.precheck) return rollout;
  const hidden = overridden(rollout);
  const checks = rollout.precheck.checks.map((c) =>
    hidden.has(c.id) ? { ...c, summary: `overridden or waived in writing; ${governanceWithheld(reader)}`, evidence: undefined } : c,
  );
  return { ...rollout, precheck: { ...rollout.precheck, checks } };
}

/** The rollout as `reader` may see it: the same pre-check on the rollout's page as in its report. */
export function visibleRollout(rollout: Rollout, reader: Role): Rollout {
  return can(reader, GOVERNANCE_READ) ? rollout : withoutOverrideReasons(rollout, reader);
}

/** A sign-off as a reader without GOVERNANCE_READ sees it: no notes, no audit hash, no override quoted in its checklist. */
function withoutGovernance(signoff: Signoff, rollout: Rollout, reader: Role): ReportSignoff {
  const hidden = overridden(rollout);
  const checklist = signoff.checklist.map((item) =>
    hidden.has(QUOTES_CHECK[item.id]) ? { ...item, evidence: governanceWithheld(reader) } : item,
  );
  return { ...signoff, checklist, notes: null, auditHash: null };
}

/**
 * Everything the completion report says, read from what indexdeck recorded; nothing estimated. What
 * `reader` may not read (governance records without GOVERNANCE_READ) is never read from the store.
 */
export async function buildRolloutReport(db: Pick<pg.Pool, "query" | "connect">, rolloutId: number, reader: Role): Promise<RolloutReport> {
  const rollout = await getRollout(db, rolloutId);
  if (!rollout) throw new ReportError(`there is no rollout ${rolloutId}`);
  const governed = can(reader, GOVERNANCE_READ);
  const [tasks, approvals, latency, signoffs, events, governance] = await Promise.all([
    rolloutTasks(db, rolloutId),
    listApprovals(db, rolloutId),
    latencyComparison(db, rolloutId),
    listSignoffs(db, { rolloutId }),
    eventsAfter(db, rolloutId, 0, 100_000),
    governed ? governanceRecords(db, rolloutId) : null,
  ]);
  const lint = await lintCache.lint({ file: rollout.changesetName, text: rollout.changesetSql });
  const untyped = events as unknown as UntypedEvent[];
  return {
    rollout: visibleRollout(rollout, reader),
    lint: {
      errors: lint.findings.filter((f) => f.severity === "error").length,
      warnings: lint.findings.filter((f) => f.severity === "warning").length,
      rules: [...new Set(lint.findings.map((f) => f.rule))],
    },
    tasks: tasks.map((t) => {
      const mine = events.filter((e) => e.taskSeq === t.seq);
      return {
        ...t,
        duration: taskDuration(t, untyped),
        phases: [...new Set(mine.filter((e) => e.kind === "progress").map((e) => String(e.data.phase)))],
        retries: Math.max(0, t.attempts - 1),
        bytes: (mine.findLast((e) => e.kind === "index_ready")?.data.bytes as number | undefined) ?? null,
      };
    }),
    timeline: rolloutTimeline(untyped),
    builds: buildTimeline(tasks, events),
    approvals,
    latency,
    signoffs: governed ? signoffs : signoffs.map((s) => withoutGovernance(s, rollout, reader)),
    governance,
    reader,
    generatedAt: new Date(),
  };
}

/**
 * Reports asked for at once: concurrent requests for one rollout's report with one role share one
 * build, and a build is handed out for `maxAgeMs` after it finished (its "Generated" time says when).
 * Fifty downloads of one report in a burst thus cost one build per app server, not fifty.
 */
export class SharedReports {
  private readonly entries = new Map<string, { db: object; report: Promise<RolloutReport>; done: number | null }>();
  /** How many reports were actually built (tests and diagnostics). */
  builds = 0;

  constructor(private readonly maxAgeMs = 2_000) {}

  get(db: Pick<pg.Pool, "query" | "connect">, rolloutId: number, reader: Role): Promise<RolloutReport> {
    const key = `${rolloutId}:${reader}`;
    const hit = this.entries.get(key);
    if (hit && hit.db === db && (hit.done === null || Date.now() - hit.done < this.maxAgeMs)) return hit.report;
    this.builds++;
    const entry: { db: object; report: Promise<RolloutReport>; done: number | null } = {
      db,
      report: buildRolloutReport(db, rolloutId, reader),
      done: null,
    };
    this.entries.set(key, entry);
    const forget = () => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    };
    entry.report.then(
      () => {
        entry.done = Date.now();
        setTimeout(forget, this.maxAgeMs).unref(); // memory stays bounded by what was asked for lately
      },
      forget, // a failure (no such rollout) is not kept: the next asker tries again
    );
    return entry.report;
  }
}

/** This app server's shared reports: the report page and its Markdown ask the same one. */
export const sharedReports = new SharedReports();

/** One rollout's audit rows, in chain order (index audit_log_rollout: a report never scans the whole log). */
export const ROLLOUT_AUDIT_ROWS_SQL = `
  SELECT id,
         action,
         actor,
         at,
         hash,
         details
    FROM audit_log
   WHERE rollout_id = $1
   ORDER BY id`;

async function governanceRecords(
  db: Pick<pg.Pool, "query" | "connect">,
  rolloutId: number,
): Promise<NonNullable<RolloutReport["governance"]>> {
  // Never a whole verify per report: that made each request cost the whole chain (50 concurrent reports,
  // 50 whole runs). The shared verdict recomputes it at most once a minute per app server.
  const [chain, { rows: auditRows }] = await Promise.all([
    recentVerdict(db),
    db.query<{ id: number; action: string; actor: string | null; at: Date; hash: string; details: { reason?: string } }>(
      ROLLOUT_AUDIT_ROWS_SQL,
      [rolloutId],
    ),
  ]);
  return {
    overrides: auditRows
      .filter((r) => r.action === "rollout.window.override" || r.action === "rollout.promotion.waive")
      .map((r) => ({ action: r.action, actor: r.actor ?? "", reason: r.details.reason ?? "", hash: r.hash })),
    auditRows: auditRows.map(({ id, action, actor, at, hash }) => ({ id, action, actor, at, hash })),
    chain: { ok: chain.ok, rows: chain.rows, firstBadId: chain.firstBadId, wholeChainAt: chain.wholeChainAt },
  };
}

/** The sentence around the moment in chainAge; the printed report puts the moment in the reader's time zone. */
export const CHAIN_AGE = {
  before: "the whole chain was last recomputed at ",
  after: " (at most once a minute per app server); rows written since then were checked for this report",
};

/** How old the report's chain verdict is, as the Audit page says it. */
export function chainAge(wholeChainAt: Date): string {
  return `${CHAIN_AGE.before}${formatWhen(wholeChainAt)}${CHAIN_AGE.after}`;
}

/** What a report built for `reader` says in place of the governance records it leaves out. */
export function governanceWithheld(reader: Role): string {
  return `Not shown: role ${reader} may not read the audit log (${GOVERNANCE_READ}).`;
}

/** Markdown-safe text: user input never becomes markup, links or HTML in the report. */
export function md(text: string | null | undefined): string {
  return (text ?? "")
    .replace(/[\\`*_[\]|<>&]/g, (c) => (c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === "&" ? "&amp;" : `\\${c}`))
    .replace(/\r?\n/g, " ");
}

export function reportMarkdown(r: RolloutReport): string {
  const { rollout } = r;
  const out: string[] = [];
  out.push(`# Rollout #${rollout.id}: ${md(rollout.changesetName)} → ${md(rollout.targetId)}`, "");
  out.push(`Generated ${formatWhen(r.generatedAt)} by indexdeck from recorded evidence. Anything not measured says so.`, "");
  out.push(`- **State:** ${rollout.state}${rollout.error ? ` — ${md(rollout.error)}` : ""}`);
  out.push(`- **Environment:** ${rollout.environment}`);
  out.push(`- **Requested by:** ${md(rollout.requestedBy)} on ${formatWhen(rollout.createdAt)}`);
  out.push(`- **Change set sha256:** \`${rollout.changesetSha256}\``);
  const version = rollout.precheck?.checks.find((c) => c.id === "server-version");
  out.push(`- **Server:** ${version ? md(version.summary) : "not checked"}`);
  const help = troubleshootingFor(rollout.errorCode);
  if (help) out.push(`- **Troubleshooting:** ${TROUBLESHOOTING[help].title}: ${TROUBLESHOOTING[help].body}`);
  out.push(`- **Lint:** ${r.lint.errors} errors, ${r.lint.warnings} warnings${r.lint.rules.length ? ` (${r.lint.rules.join(", ")})` : ""}`);
  out.push("", "## Change set", "", "```sql", rollout.changesetSql.replace(/```/g, "`\u200b``").trimEnd(), "```", "");
  out.push("## Pre-check", "");
  if (rollout.precheck) {
    out.push(
      `Run ${md(rollout.precheck.at)}: **${rollout.precheck.ok ? "passed" : "failed"}**`,
      "",
      "| Check | Result | Evidence |",
      "|---|---|---|",
    );
    for (const c of rollout.precheck.checks) out.push(`| ${md(c.title)} | ${c.status} | ${md(c.summary)} |`);
  } else out.push("Not run.");
  for (const p of recordedPlans(rollout.precheck)) {
    out.push(
      "",
      `### Partitioned build: statement ${p.seq + 1}, ${md(p.index)} on ${md(`${p.schema}.${p.table}`)}, as expanded at pre-check`,
      "",
    );
    p.steps.forEach((s, i) => out.push(`${i + 1}. ${md(s.statement)}`));
  }
  out.push(
    "",
    "## Statements",
    "",
    "| # | Statement | Status | Duration | Retries | Phases seen | Size |",
    "|---|---|---|---|---|---|---|",
  );
  for (const t of r.tasks) {
    out.push(
      `| ${t.seq + 1} | ${md(t.indexName ?? t.statement.slice(0, 60))} | ${t.status}${t.error ? ` (${md(t.error)})` : ""} | ${durationText(t.duration)} | ${t.retries} | ${md(t.phases.join(", ")) || "—"} | ${t.bytes === null ? "—" : formatBytes(t.bytes)} |`,
    );
  }
  out.push("", "## Timeline", "");
  if (r.timeline.length) {
    out.push("| When | Event |", "|---|---|");
    for (const e of r.timeline) out.push(`| ${formatWhen(e.at)} | ${e.kind === "takeover" ? `**${md(e.text)}**` : md(e.text)} |`);
  } else out.push("Nothing has run yet.");
  out.push("", "## Build timeline", "");
  for (const t of r.tasks) {
    const segments = r.builds.find((x) => x.seq === t.seq)?.segments ?? [];
    const phases = segments.map((s) => describeSegment(s, r.generatedAt.getTime())).join("; ");
    out.push(`${t.seq + 1}. ${md(t.indexName ?? t.statement.slice(0, 60))}: ${md(phases) || "no build phases recorded"}`);
  }
  out.push("", "## Verify", "");
  if (rollout.verify) {
    out.push("| Check | Result | Evidence |", "|---|---|---|");
    for (const c of [...rollout.verify.indexes, ...rollout.verify.plans]) out.push(`| ${md(c.title)} | ${c.status} | ${md(c.summary)} |`);
  } else out.push("Not verified.");
  out.push("", "## p95 before / after (measured)", "");
  if (r.latency.length) {
    out.push("| Query pattern | p95 before | p95 after | Change | Samples (before / after) |", "|---|---|---|---|---|");
    for (const l of r.latency)
      out.push(
        `| ${md(l.workload)} | ${formatMs(l.before?.p95Ms)} | ${formatMs(l.after?.p95Ms)} | ${formatChange(l.changePercent) ?? "not measured"} | ${sampleNote(l.before)} / ${sampleNote(l.after)} |`,
      );
  } else out.push("Not measured.");
  out.push("", "## Approvals", "");
  if (r.approvals.length)
    for (const a of r.approvals)
      out.push(`- ${md(a.approver)} (${a.approverRole}) **${a.decision}** on ${formatWhen(a.createdAt)}: ${md(a.comment)}`);
  else out.push(rollout.approvalsRequired ? "None recorded." : "The target's policy needs no approval.");
  out.push("", "## Overrides", "");
  if (!r.governance) out.push(governanceWithheld(r.reader));
  else if (r.governance.overrides.length)
    for (const o of r.governance.overrides) out.push(`- ${o.action} by ${md(o.actor)}: ${md(o.reason)} (audit \`${o.hash}\`)`);
  else out.push("None.");
  out.push("", "## Sign-off", "");
  if (r.signoffs.length) {
    for (const s of r.signoffs) {
      const notes = s.notes === null ? governanceWithheld(r.reader) : `Notes: ${md(s.notes) || "—"}. Audit \`${s.auditHash}\``;
      out.push(`**${s.decision.replace(/_/g, " ")}** by ${md(s.signedBy)} (${s.signedByRole}) on ${formatWhen(s.createdAt)}. ${notes}`, "");
      out.push("| Section | Item | Status | Evidence |", "|---|---|---|---|");
      for (const c of s.checklist)
        out.push(
          `| ${c.section} | ${md(c.label)} | ${c.ok === true ? "yes" : c.ok === false ? "no" : "not measured"} | ${md(c.evidence)} |`,
        );
      out.push("");
    }
  } else out.push("Not signed off.", "");
  out.push("## Audit trail", "");
  if (!r.governance) out.push(governanceWithheld(r.reader));
  else {
    const { chain } = r.governance;
    out.push(
      `Chain verdict at export: **${chain.ok ? `intact (${chain.rows} rows)` : `BROKEN at row ${chain.firstBadId}`}**; ${chainAge(chain.wholeChainAt)}`,
      "",
      "| # | When | Who | Action | Hash |",
      "|---|---|---|---|---|",
    );
    for (const a of r.governance.auditRows) out.push(`| ${a.id} | ${formatWhen(a.at)} | ${md(a.actor)} | ${a.action} | \`${a.hash}\` |`);
  }
  return `${out.join("\n")}\n`;
}
