import { nodeBody, statementFact } from "./nodes";
import type { Statement } from "./parse";

type Obj = Record<string, unknown>;

/**
 * The session settings each statement runs under, as the file's SET / RESET statements leave
 * them, read statement by statement in file order. Values are as written. SET LOCAL never reaches
 * a target (the statement policy refuses it), so it changes nothing here.
 */
export class SettingsTracker {
  private current: ReadonlyMap<string, string> = new Map();

  /** The settings `stmt` runs under; what it sets then holds for the statements after it. */
  before(stmt: Statement): ReadonlyMap<string, string> {
    const now = this.current;
    const change = settingChange(stmt);
    if (change) {
      const next = new Map(now);
      if (change.kind === "set") next.set(change.name, change.value);
      else if (change.kind === "reset") next.delete(change.name);
      else next.clear();
      this.current = next;
    }
    return now;
  }
}

type SettingChange = { kind: "set"; name: string; value: string } | { kind: "reset"; name: string } | { kind: "reset-all" };

/** What a SET or RESET does to the session's settings; null for SET LOCAL and other forms that change none. */
const settingChange = statementFact(["VariableSetStmt"], (stmt): SettingChange | null => {
  const s = nodeBody(stmt, "VariableSetStmt")!;
  if (s.is_local) return null;
  const name = String(s.name ?? "").toLowerCase();
  if (s.kind === "VAR_SET_VALUE") return { kind: "set", name, value: settingValue(s.args as Obj[] | undefined) };
  if (s.kind === "VAR_SET_DEFAULT" || s.kind === "VAR_RESET") return { kind: "reset", name };
  if (s.kind === "VAR_RESET_ALL") return { kind: "reset-all" };
  return null;
});

export function settingValue(args: Obj[] | undefined): string {
  const c = args?.[0]?.A_Const as Obj | undefined;
  if (!c) return "";
  if (c.sval) return String((c.sval as Obj).sval);
  if (c.ival) return String((c.ival as Obj).ival ?? 0);
  if (c.fval) return String((c.fval as Obj).fval);
  return c.isnull ? "" : "0";
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/** A timeout setting in milliseconds (a bare number is ms, as PostgreSQL reads it); 0 = no limit. */
export function parseDurationMs(value: string): number | null {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)?\s*$/.exec(value);
  if (!m) return null;
  return Number(m[1]) * UNIT_MS[m[2] ?? "ms"];
}

// PostgreSQL's memory units are case-sensitive; a bare number of a *_mem setting is kilobytes.
const UNIT_KB: Record<string, number> = { B: 1 / 1024, kB: 1, MB: 1024, GB: 1024 ** 2, TB: 1024 ** 3 };

/** A memory setting in kilobytes, or null when PostgreSQL would not read it as one. */
export function parseMemoryKb(value: string): number | null {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*(B|kB|MB|GB|TB)?\s*$/.exec(value);
  if (!m) return null;
  return Number(m[1]) * UNIT_KB[m[2] ?? "kB"];
}

export function formatDuration(ms: number): string {
  if (ms >= 3_600_000) return `${+(ms / 3_600_000).toFixed(1)} h`;
  if (ms >= 60_000) return `${+(ms / 60_000).toFixed(1)} min`;
  if (ms >= 1000) return `${+(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms)} ms`;
}

export function formatMemoryKb(kb: number): string {
  if (kb >= 1024 ** 2) return `${+(kb / 1024 ** 2).toFixed(1)} GB`;
  if (kb >= 1024) return `${+(kb / 1024).toFixed(1)} MB`;
  return `${Math.round(kb)} kB`;
}

/** The bounds a rollout's SET statements are held to; a target may tighten or widen the memory and worker limits. */
export interface SessionLimits {
  maxLockTimeoutMs: number;
  minStatementTimeoutMs: number;
  maxMaintenanceWorkMemKb: number;
  maxParallelMaintenanceWorkers: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  // A DDL statement queued for a lock makes every later writer of the table queue behind it: a
  // minute is already a long outage; indexdeck retries lock timeouts with backoff instead.
  maxLockTimeoutMs: 60_000,
  // Below a second a statement can be cancelled while taking its locks, and a cancelled concurrent
  // build or drop leaves an INVALID index behind.
  minStatementTimeoutMs: 1000,
  maxMaintenanceWorkMemKb: 1024 ** 2,
  maxParallelMaintenanceWorkers: 4,
};

/**
 * The only settings a change set may SET: what a rollout needs to pace and bound its builds. Everything
 * else is refused, above all what changes how the server reads SQL text (standard_conforming_strings,
 * backslash_quote, client_encoding), whom it runs as (role, session_authorization), how names resolve
 * (search_path) and how reconcile finds the session (application_name).
 */
export const ROLLOUT_SETTINGS = {
  lock_timeout: {
    resettable: false,
    check(value: string, limits: SessionLimits): string | null {
      const ms = parseDurationMs(value);
      if (ms === null) return `lock_timeout '${value}' is not a duration PostgreSQL reads (e.g. '2s', 500)`;
      if (ms <= 0)
        return `lock_timeout ${value} means wait for locks forever: a build queued behind a long transaction would stall every writer behind it`;
      if (ms > limits.maxLockTimeoutMs)
        return `lock_timeout ${formatDuration(ms)} is above the ${formatDuration(limits.maxLockTimeoutMs)} limit: writers queue behind a waiting DDL statement for that long`;
      return null;
    },
  },
  statement_timeout: {
    resettable: true,
    check(value: string, limits: SessionLimits): string | null {
      const ms = parseDurationMs(value);
      if (ms === null) return `statement_timeout '${value}' is not a duration PostgreSQL reads (e.g. 0, '30min')`;
      if (ms < 0) return `statement_timeout ${value} is negative`;
      if (ms > 0 && ms < limits.minStatementTimeoutMs)
        return `statement_timeout ${formatDuration(ms)} is below ${formatDuration(limits.minStatementTimeoutMs)}: it can cancel a concurrent build or drop midway, which leaves an INVALID index`;
      return null;
    },
  },
  maintenance_work_mem: {
    resettable: true,
    check(value: string, limits: SessionLimits): string | null {
      const kb = parseMemoryKb(value);
      if (kb === null) return `maintenance_work_mem '${value}' is not a size PostgreSQL reads (e.g. '256MB')`;
      if (kb < 1024) return `maintenance_work_mem ${formatMemoryKb(kb)} is below PostgreSQL's minimum of 1 MB`;
      if (kb > limits.maxMaintenanceWorkMemKb)
        return `maintenance_work_mem ${formatMemoryKb(kb)} is above this target's limit of ${formatMemoryKb(limits.maxMaintenanceWorkMemKb)}`;
      return null;
    },
  },
  max_parallel_maintenance_workers: {
    resettable: true,
    check(value: string, limits: SessionLimits): string | null {
      if (!/^\s*\d+\s*$/.test(value)) return `max_parallel_maintenance_workers '${value}' is not a whole number`;
      if (Number(value) > limits.maxParallelMaintenanceWorkers)
        return `max_parallel_maintenance_workers ${value} is above this target's limit of ${limits.maxParallelMaintenanceWorkers}`;
      return null;
    },
  },
} as const;

export type RolloutSetting = keyof typeof ROLLOUT_SETTINGS;

export function isRolloutSetting(name: string): name is RolloutSetting {
  return Object.hasOwn(ROLLOUT_SETTINGS, name);
}
