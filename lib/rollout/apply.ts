import pg from "pg";
import type { FailureCode } from "../text/troubleshooting";
import { quoteQualified } from "../sql/quote";
import { cancelOwnBackend, sessionsByPid, type SessionInfo } from "../targets/activity";
import { indexState } from "../targets/catalog";
import { withoutSecrets } from "../targets/display";
import { backendWait, buildProgress } from "../targets/progress";
import type { EventData, EventKind } from "./events";
import { onlyTargetProblem, PartitionError, preparePartitions, runPartitioned, type PartitionOptions } from "./partitions";
import { paceBefore, type Pacing } from "./pacing";
import { dropIndexStatement, type PlannedTask } from "./plan";
import { overallPercent, taskStatusFor } from "./build-phases";
import {
  CONNECT_TIMEOUT_MS,
  connectUnlessAborted,
  hangUp,
  openApplySession,
  runStatement,
  SessionPinError,
  withApplySession,
  type SessionEvidence,
} from "./session";

export type TaskStatus =
  "pending" | "waiting_for_lock" | "building" | "validating" | "done" | "skipped_exists" | "failed" | "invalid_cleaned";

export interface TaskPatch {
  status?: TaskStatus;
  attempts?: number;
  error?: string | null;
  createdByRollout?: boolean;
  started?: boolean;
  finished?: boolean;
}

/** Where apply reports what happens: the store for rollouts, the terminal for the CLI. */
export interface ApplySink {
  task(seq: number, patch: TaskPatch): Promise<void>;
  event<K extends EventKind>(kind: K, data: EventData[K], taskSeq?: number): Promise<void>;
  cancelRequested(): Promise<boolean>;
}

export interface ApplyOptions {
  url: string;
  /** application_name of the apply session; reconcile finds it by this after a restart. */
  applicationName: string;
  /** The target's name in messages. The lock itself is per database (advisory locks carry the database's OID). */
  targetKey: string;
  /** How long a session may take to connect before the apply gives up; CONNECT_TIMEOUT_MS when not given. */
  connectTimeoutMs?: number;
  pollIntervalMs?: number;
  lockRetries?: number;
  backoffMs?: number;
  /** Tasks already finished by an earlier run (resume after reconcile). */
  skip?: ReadonlySet<number>;
  /** The target's configured schemas, after pg_catalog; the role's own path when not given. */
  searchPath?: readonly string[];
  /** CREATE INDEX CONCURRENTLY on partitioned tables: the plans pre-check recorded and what this rollout already created. */
  partitions?: PartitionOptions;
  /** The target's build settings and pause conditions (lib/rollout/pacing.ts pacingFor). */
  pacing?: Pacing;
}

export interface ApplyResult {
  ok: boolean;
  cancelled?: boolean;
  error?: string;
  /** Why it failed, as data (from PostgreSQL's SQLSTATE where the target said). */
  code?: FailureCode;
  advice?: string;
}

export class TargetBusyError extends Error {}

/** Arbitrary constant first key of indexdeck's advisory locks, so they are recognisable in pg_locks. */
export const LOCK_CLASS = 0x1dec;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pgCode(err: unknown): string | undefined {
  return (err as { code?: string }).code;
}

const CONNECTION_LOST = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "57P01", "57P02", "57P03", "08006", "08003"]);

/**
 * Runs a change set's tasks on a target: one dedicated session, never inside a transaction, under
 * an advisory lock per target. Every build is watched by a poller; every failure that can leave an
 * INVALID index is followed by a check and a concurrent drop of it (invariant 4).
 */
export function applyTasks(tasks: PlannedTask[], sink: ApplySink, opts: ApplyOptions): Promise<ApplyResult> {
  return startApply(opts).run(tasks, sink);
}

export interface StartedApply {
  run(tasks: PlannedTask[], sink: ApplySink): Promise<ApplyResult>;
  /** For a caller whose tasks never came (its plan failed): closes the sessions, runs nothing. */
  abandon(): Promise<void>;
}

/**
 * An apply whose sessions open now, before its tasks are known, so a caller that still has to plan
 * (the CLI parses the change set meanwhile) does not wait for the connections afterwards. Nothing is
 * locked or run on the target until `run`.
 */
export function startApply(opts: ApplyOptions): StartedApply {
  // Opened at once, beside the apply session, so the first build's poller finds it ready.
  const watch = new WatchSession(opts);
  void watch.open();
  const aborted = new AbortController();
  const opening = openApplySession({ ...opts, pacedSettings: opts.pacing?.settings }, aborted.signal).then(
    (opened) => ({ opened, failure: null }),
    (failure: unknown) => ({ opened: null, failure }),
  );
  return {
    async abandon() {
      aborted.abort();
      const { opened } = await opening;
      await Promise.all([opened?.client.end().catch(() => undefined), watch.end()]);
    },
    async run(tasks, sink) {
      const { opened, failure } = await opening;
      if (!opened) {
        await watch.end();
        if (failure instanceof SessionPinError)
          return {
            ok: false,
            error: failure.message,
            advice: "Remove the setting from the connection URL's options, then run apply again.",
          };
        return {
          ok: false,
          code: "target_unreachable",
          error: `cannot connect to the target: ${withoutSecrets(failure as Error, opts.url).message}`,
          advice: "Check that the target is up and reachable, then run apply again.",
        };
      }
      return runOnSession(opened.client, opened.evidence, watch, tasks, sink, opts);
    },
  };
}

async function runOnSession(
  session: pg.Client,
  evidence: SessionEvidence,
  watch: WatchSession,
  tasks: PlannedTask[],
  sink: ApplySink,
  opts: ApplyOptions,
): Promise<ApplyResult> {
  let locked = false;
  try {
    // One apply per target database, whoever starts it: web servers, workers and the CLI alike.
    const {
      rows: [lock],
    } = await session.query<{ ok: boolean; pid: number }>("SELECT pg_try_advisory_lock($1, 0) AS ok, pg_backend_pid() AS pid", [
      LOCK_CLASS,
    ]);
    locked = lock.ok;
    if (!lock.ok) {
      const holder = await lockHolder(session);
      throw new TargetBusyError(
        `another apply is running on target ${opts.targetKey}${holder ? ` (pid ${holder.pid}, ${holder.application})` : ""}; only one runs per target at a time`,
      );
    }
    const { pid } = lock;
    await sink.event("session", { pid, applicationName: opts.applicationName, ...evidence });
    const todo = tasks.filter((t) => !opts.skip?.has(t.seq));
    const partitioned = await preparePartitions(session, todo, opts.partitions ?? {});
    const run = async (t: PlannedTask, s: ApplySink) => {
      // Between statements: the target's pause conditions hold the next one back (lib/rollout/pacing.ts).
      if (opts.pacing && t.kind !== "set" && (await paceBefore(session, opts.pacing, t, s)) === "cancelled") return cancelled(t, s);
      return runTask(session, watch, pid, t, s, opts);
    };
    for (const task of todo) {
      const plan = partitioned.get(task.seq);
      const result = plan ? await runPartitioned({ session, sink, run }, task, plan) : await run(task, sink);
      if (!result.ok) return result;
    }
    return { ok: true };
  } catch (err) {
    if (err instanceof TargetBusyError) throw err;
    if (err instanceof PartitionError) {
      await sink.event("partitions_differ", { error: err.message });
      return { ok: false, error: err.message, advice: "Run pre-check again, review the expanded plan, then apply." };
    }
    return { ok: false, error: (err as Error).message };
  } finally {
    // Unlocked by statement, so the target is free for the next apply once this returns: the sessions
    // are hung up, not waited out (their backends end a little later, on the server's time).
    if (locked) await session.query("SELECT pg_advisory_unlock($1, 0)", [LOCK_CLASS]).catch(() => undefined);
    hangUp(session);
    await watch.end();
  }
}

async function lockHolder(db: pg.ClientBase): Promise<{ pid: number; application: string } | null> {
  const { rows } = await db.query<{ pid: number; application: string }>(
    `SELECT a.pid, a.application_name AS application
       FROM pg_locks l
       JOIN pg_stat_activity a ON a.pid = l.pid
       JOIN pg_database d ON d.oid = l.database
      WHERE l.locktype = 'advisory' AND l.classid = $1 AND l.objid = 0 AND l.granted AND d.datname = current_database()`,
    [LOCK_CLASS],
  );
  return rows[0] ?? null;
}

async function runTask(
  session: pg.Client,
  watch: WatchSession,
  pid: number,
  task: PlannedTask,
  sink: ApplySink,
  opts: ApplyOptions,
): Promise<ApplyResult> {
  await sink.task(task.seq, { started: true, status: task.kind === "set" ? "done" : "building" });
  if (task.kind === "set") {
    await runStatement(session, task.statement);
    await sink.task(task.seq, { finished: true });
    await sink.event("statement_done", { line: task.line, statement: task.statement }, task.seq);
    return { ok: true };
  }
  let existedBefore = false;
  const refused = await onlyTargetProblem(session, task);
  if (refused) return fail(task, sink, refused, "Build the index CONCURRENTLY without ONLY, or point ON ONLY at the partitioned parent.");
  if (task.kind === "create_index") {
    const before = await indexState(session, quoteQualified(task.schemaName, task.indexName!));
    existedBefore = before.exists;
    if (before.exists && before.valid && task.ifNotExists) {
      await sink.task(task.seq, { status: "skipped_exists", finished: true });
      await sink.event("skipped_exists", { index: task.indexName, definition: before.definition }, task.seq);
      return { ok: true };
    }
    if (before.exists && !before.valid) {
      await sink.event(
        "invalid_found",
        { index: task.indexName, reason: "an INVALID index with this name exists before the build" },
        task.seq,
      );
      const cleaned = await dropInvalid(opts, task, sink);
      if (!cleaned.ok) return cleaned;
      existedBefore = false;
    }
  }
  const retries = opts.lockRetries ?? 5;
  for (let attempt = 1; ; attempt++) {
    await sink.task(task.seq, { attempts: attempt, status: "building" });
    await sink.event("statement_start", { line: task.line, statement: task.statement, attempt }, task.seq);
    const poller = startPoller(watch, pid, task, sink, opts);
    let error: unknown = null;
    try {
      await runStatement(session, task.statement);
    } catch (err) {
      error = err;
    }
    const watched = await poller.stop();
    if (!error) {
      if (task.kind === "create_index") {
        const after = await indexState(session, quoteQualified(task.schemaName, task.indexName!));
        // ON ONLY's index stays INVALID until every partition's index is attached to it.
        if (!after.valid && !task.only) {
          return failWithCleanup(
            opts,
            task,
            sink,
            `${task.indexName} finished but is not valid`,
            "The build reported success yet the index is INVALID; it was dropped. Run apply again.",
            "invalid_index",
          );
        }
        await sink.task(task.seq, { status: "done", finished: true, createdByRollout: !existedBefore });
        await sink.event("index_ready", { index: task.indexName, bytes: after.bytes, definition: after.definition }, task.seq);
      } else {
        await sink.task(task.seq, { status: "done", finished: true, createdByRollout: false });
        await sink.event("statement_done", { line: task.line, statement: task.statement }, task.seq);
      }
      return { ok: true };
    }
    const code = pgCode(error);
    const message = (error as Error).message;
    if (code === "55P03") {
      await sink.event("lock_timeout", { attempt, message, blockers: watched.lastBlockers }, task.seq);
      const cleaned = await dropInvalidIfAny(opts, task, sink);
      if (!cleaned.ok) return cleaned;
      if (attempt < retries) {
        const wait = Math.min((opts.backoffMs ?? 1000) * 2 ** (attempt - 1), 60_000);
        await sink.task(task.seq, { status: "waiting_for_lock", error: `lock_timeout, retry ${attempt + 1}/${retries} in ${wait} ms` });
        await sleep(wait);
        if (await sink.cancelRequested()) return cancelled(task, sink);
        continue;
      }
      const who = watched.lastBlockers
        .map((b) => `pid ${b.pid} (${b.application || b.user}, ${b.state}, ${b.query.slice(0, 80)})`)
        .join("; ");
      return fail(
        task,
        sink,
        `could not get the lock after ${retries} attempts (lock_timeout)${who ? `; held by ${who}` : ""}`,
        "Another session holds a conflicting lock. Find it in the blockers panel, let it finish (or end it yourself after checking), then apply again. indexdeck never kills other sessions.",
        "lock_timeout",
      );
    }
    if (code === "57014" && watched.cancelled) {
      const cleaned = await dropInvalidIfAny(opts, task, sink);
      return cleaned.ok ? cancelled(task, sink) : cleaned;
    }
    if (code === "57014") {
      return failWithCleanup(
        opts,
        task,
        sink,
        `statement_timeout cancelled the build of ${task.indexName ?? "the statement"}: ${message}`,
        "The change set's statement_timeout is shorter than the build. Raise it (or SET statement_timeout = 0 before concurrent builds) and apply again; the INVALID index it left was dropped.",
        "statement_timeout",
      );
    }
    if (code === "23505") {
      return failWithCleanup(
        opts,
        task,
        sink,
        `unique index ${task.indexName} cannot be built: ${message}`,
        "The table holds duplicate keys. Remove the duplicates (or make the index non-unique) and apply again; the INVALID index it left was dropped.",
        "unique_violation",
      );
    }
    if (
      CONNECTION_LOST.has(code ?? "") ||
      CONNECTION_LOST.has((error as NodeJS.ErrnoException).code ?? "") ||
      /Connection terminated|connection closed/i.test(message)
    ) {
      await sink.event("connection_lost", { message }, task.seq);
      const cleaned = await dropInvalidIfAny(opts, task, sink);
      return fail(
        task,
        sink,
        `the connection to the target was lost during ${task.indexName ?? "the statement"}: ${message}${cleaned.ok ? "" : " (cleanup could not run yet; reconcile will retry)"}`,
        "Check the target. Reconcile checks the catalog and drops any INVALID index left behind.",
        "connection_lost",
      );
    }
    return failWithCleanup(opts, task, sink, message, "See the error above; fix the change set and apply again.");
  }
}

async function fail(task: PlannedTask, sink: ApplySink, error: string, advice: string, code?: FailureCode): Promise<ApplyResult> {
  await sink.task(task.seq, { status: "failed", error, finished: true });
  await sink.event("task_failed", { error, advice, code: code ?? null }, task.seq);
  return { ok: false, error, advice, code };
}

async function cancelled(task: PlannedTask, sink: ApplySink): Promise<ApplyResult> {
  await sink.task(task.seq, { status: "failed", error: "cancelled by request", finished: true });
  await sink.event("cancelled", {}, task.seq);
  return { ok: false, cancelled: true, code: "cancelled", error: "cancelled by request" };
}

async function failWithCleanup(
  opts: ApplyOptions,
  task: PlannedTask,
  sink: ApplySink,
  error: string,
  advice: string,
  code?: FailureCode,
): Promise<ApplyResult> {
  const cleaned = await dropInvalidIfAny(opts, task, sink);
  if (!cleaned.ok) return cleaned;
  return fail(task, sink, error, advice, code);
}

/** A cleanup session of its own, pinned like the apply session (same search_path, so the same index), with a short lock_timeout retried. */
function withCleanupSession<T>(opts: ApplyOptions, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  return withApplySession({ ...opts, applicationName: `${opts.applicationName}:cleanup`, connectTimeoutMs: 5000 }, async (c) => {
    await c.query("SET lock_timeout = '5s'");
    return fn(c);
  });
}

async function dropInvalidIfAny(opts: ApplyOptions, task: PlannedTask, sink: ApplySink): Promise<ApplyResult> {
  if (task.kind !== "create_index" || !task.indexName) return { ok: true };
  try {
    const state = await withCleanupSession(opts, (c) => indexState(c, quoteQualified(task.schemaName, task.indexName!)));
    if (!state.exists || state.valid) return { ok: true };
  } catch (err) {
    await sink.event("invalid_check_failed", { index: task.indexName, message: (err as Error).message }, task.seq);
    return {
      ok: false,
      code: "invalid_index",
      error: `could not check for an INVALID ${task.indexName}: ${(err as Error).message}`,
      advice: "Reconcile will check again when the target is reachable.",
    };
  }
  await sink.event("invalid_found", { index: task.indexName, reason: "the failed build left an INVALID index" }, task.seq);
  return dropInvalid(opts, task, sink);
}

async function dropInvalid(opts: ApplyOptions, task: PlannedTask, sink: ApplySink): Promise<ApplyResult> {
  let last = "";
  for (let attempt = 1; attempt <= 5; attempt++) {
    try {
      await withCleanupSession(opts, (c) => c.query(dropIndexStatement(task.schemaName, task.indexName!)));
      await sink.task(task.seq, { status: "invalid_cleaned" });
      await sink.event("invalid_dropped", { index: task.indexName }, task.seq);
      return { ok: true };
    } catch (err) {
      last = (err as Error).message;
      await sleep(500 * attempt);
    }
  }
  const error = `INVALID index ${task.indexName} is still on the target: dropping it failed (${last})`;
  await sink.task(task.seq, { status: "failed", error, finished: true });
  await sink.event("invalid_left", { index: task.indexName, error }, task.seq);
  return {
    ok: false,
    code: "invalid_index",
    error,
    advice: `Drop it by hand: ${dropIndexStatement(task.schemaName, task.indexName!)};`,
  };
}

interface Watched {
  cancelled: boolean;
  lastBlockers: SessionInfo[];
}

/**
 * The second session the pollers watch the apply backend from: one per apply, reused by every
 * build's poller (a connection per build cost each build a backend start and cold catalog caches on
 * the target, and the build waited for the connect before it could report). Reopened by the next
 * poller after a failure; a poller without it watches nothing and the apply goes on.
 */
class WatchSession {
  private pending: Promise<pg.Client | null> | null = null;
  private latest: pg.Client | null = null;
  private readonly ended = new AbortController();
  constructor(private readonly opts: ApplyOptions) {}

  open(): Promise<pg.Client | null> {
    this.pending ??= this.connect();
    return this.pending;
  }

  private async connect(): Promise<pg.Client | null> {
    const c = new pg.Client({
      connectionString: this.opts.url,
      application_name: `${this.opts.applicationName}:poll`,
      statement_timeout: 5000,
      connectionTimeoutMillis: this.opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    });
    this.latest = c;
    c.on("error", () => this.discard(c));
    try {
      await connectUnlessAborted(c, this.ended.signal);
      return c;
    } catch {
      this.discard(c);
      return null;
    }
  }

  /** Forgets a session that failed, so the next poller opens a fresh one. */
  discard(c: pg.Client): void {
    if (this.latest === c) {
      this.latest = null;
      this.pending = null;
    }
    c.end().catch(() => undefined);
  }

  /** Hangs the session up, one still connecting too, so no one waits out a connect. */
  async end(): Promise<void> {
    this.ended.abort();
    const c = await this.pending;
    this.pending = null;
    this.latest = null;
    if (c) hangUp(c);
  }
}

/**
 * Watches the apply backend every pollIntervalMs from the watch session: build progress, what it waits
 * on and who blocks it. Also where a cancel request is noticed: only indexdeck's own backend is
 * cancelled, never anyone else's.
 */
function startPoller(
  watch: WatchSession,
  pid: number,
  task: PlannedTask,
  sink: ApplySink,
  opts: ApplyOptions,
): { stop(): Promise<Watched> } {
  const watched: Watched = { cancelled: false, lastBlockers: [] };
  let running = true;
  let wake = () => undefined as void;
  let lastStatus = "";
  let lastKey = "";
  const loop = (async () => {
    const c = await watch.open();
    if (!c) return;
    // A concurrent build waits out every transaction's snapshot, this session's polls too: a few
    // milliseconds, and never a blocker to show anyone. (pg keeps the backend's pid from its key data.)
    const self = (c as pg.Client & { processID: number | null }).processID;
    try {
      while (running) {
        const progress = await buildProgress(c, pid);
        const wait = progress ?? (await backendWait(c, pid));
        const blockerPids = [
          ...new Set([
            ...(wait?.blockingPids ?? []),
            ...(progress?.currentLockerPid && progress.phase.startsWith("waiting") ? [progress.currentLockerPid] : []),
          ]),
        ].filter((p) => p !== self);
        const blockers = await sessionsByPid(c, blockerPids);
        if (blockers.length) watched.lastBlockers = blockers;
        const status = taskStatusFor(progress?.phase ?? null, wait?.waitEventType ?? null);
        if (running && status !== lastStatus) {
          lastStatus = status;
          await sink.task(task.seq, { status });
        }
        const data = {
          phase: progress?.phase ?? (wait?.waitEventType === "Lock" ? "waiting for lock" : "starting"),
          percent: progress ? overallPercent(progress) : 0,
          blocksDone: progress?.blocksDone ?? 0,
          blocksTotal: progress?.blocksTotal ?? 0,
          tuplesDone: progress?.tuplesDone ?? 0,
          tuplesTotal: progress?.tuplesTotal ?? 0,
          lockersDone: progress?.lockersDone ?? 0,
          lockersTotal: progress?.lockersTotal ?? 0,
          currentLockerPid: progress?.currentLockerPid ?? null,
          waitEventType: wait?.waitEventType ?? null,
          waitEvent: wait?.waitEvent ?? null,
          blockers,
        };
        const key = JSON.stringify({ ...data, blockers: blockers.map((b) => b.pid) });
        if (running && key !== lastKey) {
          lastKey = key;
          await sink.event("progress", { index: task.indexName, ...data }, task.seq);
        }
        if (!watched.cancelled && (await sink.cancelRequested())) {
          watched.cancelled = await cancelOwnBackend(c, pid, opts.applicationName);
          await sink.event("cancel_sent", { pid, delivered: watched.cancelled }, task.seq);
        }
        // A stop that came during this round's queries ends the loop here, not after one more interval.
        if (!running) break;
        // Interruptible, so a finished statement is not held up by the poll interval.
        // The timer goes with the wait: a stopped poller's would hold a CLI process open up to one interval.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, opts.pollIntervalMs ?? 500);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    } catch {
      // A poller that cannot reach the target must not fail the apply; the apply session reports.
      watch.discard(c);
    }
  })();
  return {
    async stop() {
      running = false;
      wake();
      await loop;
      return watched;
    },
  };
}
