import type pg from "pg";
import { parseMemoryKb } from "../changeset/settings";
import { quoteQualified } from "../sql/quote";
import type { TargetConfig } from "../targets/config";
import { replicaUrl } from "../targets/urls";
import { withTargetClient } from "../targets/connect";
import type { ApplySink } from "./apply";
import type { PlannedTask } from "./plan";

/**
 * Why apply holds the next statement back, as data: the live page and the event log phrase it
 * (lib/rollout/event-text.ts pauseReasonText), nothing reads it back out of a sentence.
 */
export type PauseReason =
  | { code: "replica_lag"; node: string; lagSeconds: number; limitSeconds: number }
  | { code: "replica_unreadable"; node: string; error: string }
  | { code: "wraparound_vacuum"; table: string; pid: number }
  | { code: "active_connections"; active: number; limit: number };

/** A target's pacing as apply uses it: the build session's settings, and what pauses it between statements. */
export interface Pacing {
  /** PostgreSQL settings pinned on the build session (startup packet and SET), by name. */
  settings: Record<string, string>;
  pauseWhen: TargetConfig["apply"]["pauseWhen"];
  replicas: Array<{ id: string; url: string }>;
  recheckMs: number;
}

/**
 * The settings a target's apply section pins. Memory goes as whole kilobytes, the unit PostgreSQL
 * reads without a suffix ambiguity and that fits a startup packet's `-c name=value` (no spaces).
 */
export function pacedSettings(apply: TargetConfig["apply"]): Record<string, string> {
  return {
    ...(apply.maxParallelMaintenanceWorkers !== undefined
      ? { max_parallel_maintenance_workers: String(apply.maxParallelMaintenanceWorkers) }
      : {}),
    ...(apply.maintenanceWorkMem !== undefined
      ? { maintenance_work_mem: `${Math.floor(parseMemoryKb(apply.maintenanceWorkMem)!)}kB` }
      : {}),
  };
}

/** The pacing the targets file gives a target; the replica URLs are read now, so a missing variable fails before any build. */
export function pacingFor(target: TargetConfig): Pacing {
  const { pauseWhen, recheckSeconds } = target.apply;
  return {
    settings: pacedSettings(target.apply),
    pauseWhen,
    replicas: pauseWhen.replicaLagSeconds === undefined ? [] : target.replicas.map((r) => ({ id: r.id, url: replicaUrl(target, r) })),
    recheckMs: recheckSeconds * 1000,
  };
}

/**
 * How far a replica's replay is behind: 0 when it has replayed all it received, else the age of the
 * last transaction it replayed (the usual measure; on a primary idle for a while before a write it
 * overstates the lag until that write is replayed, which errs on the side of waiting).
 */
async function replicaLag(url: string, id: string): Promise<{ inRecovery: boolean; lagSeconds: number | null }> {
  return withTargetClient(
    { id, url },
    async (db) => {
      const {
        rows: [row],
      } = await db.query<{ inRecovery: boolean; lagSeconds: number | null }>(
        `SELECT pg_is_in_recovery() AS "inRecovery",
                CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                     ELSE extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8
                END                 AS "lagSeconds"`,
      );
      return row;
    },
    { applicationName: "indexdeck:pacing", connectTimeoutMs: 3000, statementTimeoutMs: 3000 },
  );
}

async function replicaReasons(pacing: Pacing): Promise<PauseReason[]> {
  const limitSeconds = pacing.pauseWhen.replicaLagSeconds;
  if (limitSeconds === undefined) return [];
  const read = await Promise.all(
    pacing.replicas.map(async (r): Promise<PauseReason | null> => {
      try {
        const { inRecovery, lagSeconds } = await replicaLag(r.url, r.id);
        if (!inRecovery) return { code: "replica_unreadable", node: r.id, error: "it is a primary, not a replica" };
        if (lagSeconds === null) return { code: "replica_unreadable", node: r.id, error: "it has replayed no transaction yet" };
        return lagSeconds > limitSeconds ? { code: "replica_lag", node: r.id, lagSeconds, limitSeconds } : null;
      } catch (err) {
        // A replica whose lag can't be read may be the one falling behind: wait for it rather than guess.
        return { code: "replica_unreadable", node: r.id, error: (err as Error).message };
      }
    }),
  );
  return read.filter((r) => r !== null);
}

/**
 * An anti-wraparound autovacuum on the table about to be indexed. A concurrent build would wait for it
 * (both take SHARE UPDATE EXCLUSIVE) and it does not give way to a lock request as an ordinary
 * autovacuum does. PostgreSQL says which autovacuum is one only in the worker's query text, which it
 * writes as "autovacuum: VACUUM … (to prevent wraparound)".
 */
async function wraparoundReasons(db: pg.ClientBase, task: PlannedTask): Promise<PauseReason[]> {
  if (!task.tableName) return [];
  const table = quoteQualified(task.schemaName, task.tableName);
  const { rows } = await db.query<{ pid: number }>(
    `SELECT p.pid
       FROM pg_stat_progress_vacuum p
       JOIN pg_stat_activity a ON a.pid = p.pid
      WHERE p.relid = to_regclass($1)
        AND a.backend_type = 'autovacuum worker'
        AND a.query LIKE '%(to prevent wraparound)'`,
    [table],
  );
  return rows.map((r) => ({
    code: "wraparound_vacuum",
    table: task.schemaName ? `${task.schemaName}.${task.tableName}` : task.tableName!,
    pid: r.pid,
  }));
}

/** Sessions running a query on the server now, other than this one (the apply session asks, between statements). */
async function connectionReasons(db: pg.ClientBase, limit: number | undefined): Promise<PauseReason[]> {
  if (limit === undefined) return [];
  const {
    rows: [{ active }],
  } = await db.query<{ active: number }>(
    `SELECT count(*)::int AS active
       FROM pg_stat_activity
      WHERE backend_type = 'client backend'
        AND state = 'active'
        AND pid <> pg_backend_pid()`,
  );
  return active > limit ? [{ code: "active_connections", active, limit }] : [];
}

/** Every configured condition that holds now for `task`; empty when it may run. */
export async function pauseReasons(session: pg.ClientBase, pacing: Pacing, task: PlannedTask): Promise<PauseReason[]> {
  const [replicas, vacuum, connections] = await Promise.all([
    replicaReasons(pacing),
    pacing.pauseWhen.wraparoundVacuum ? wraparoundReasons(session, task) : [],
    connectionReasons(session, pacing.pauseWhen.activeConnections),
  ]);
  return [...replicas, ...vacuum, ...connections];
}

// What a pause is about, without its numbers: a new event when this changes, not each time a lag ticks.
const pauseKey = (reasons: PauseReason[]) =>
  reasons.map((r) => `${r.code}:${"node" in r ? r.node : "table" in r ? r.table : ""}`).join(",");

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Holds `task` back while any pause condition holds, checking again every recheckMs, and reports the
 * pause and the resume as events. A cancel request ends the wait within half a second: "cancelled".
 */
export async function paceBefore(session: pg.ClientBase, pacing: Pacing, task: PlannedTask, sink: ApplySink): Promise<"go" | "cancelled"> {
  let pausedAt: number | null = null;
  let shown = "";
  for (;;) {
    const reasons = await pauseReasons(session, pacing, task);
    if (!reasons.length) {
      if (pausedAt !== null)
        await sink.event("resumed", { line: task.line, pausedSeconds: +((Date.now() - pausedAt) / 1000).toFixed(1) }, task.seq);
      return "go";
    }
    pausedAt ??= Date.now();
    if (pauseKey(reasons) !== shown) {
      shown = pauseKey(reasons);
      await sink.event("paused", { line: task.line, reasons }, task.seq);
    }
    for (let waited = 0; waited < pacing.recheckMs; waited += 500) {
      if (await sink.cancelRequested()) return "cancelled";
      await sleep(Math.min(500, pacing.recheckMs - waited));
    }
  }
}
