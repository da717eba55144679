import { nodeBody } from "./nodes";
import type { Statement } from "./parse";

type Obj = Record<string, unknown>;

/**
 * The session settings each statement runs under, as the file's SET / RESET statements leave
 * them (SET LOCAL is ignored: outside a transaction it has no effect). Values are as written.
 */
export function settingsBefore(statements: Statement[]): Array<ReadonlyMap<string, string>> {
  const result: Array<ReadonlyMap<string, string>> = [];
  let current = new Map<string, string>();
  for (const stmt of statements) {
    result.push(current);
    const s = nodeBody(stmt, "VariableSetStmt");
    if (!s || s.is_local) continue;
    current = new Map(current);
    const name = String(s.name ?? "").toLowerCase();
    if (s.kind === "VAR_SET_VALUE") current.set(name, settingValue(s.args as Obj[] | undefined));
    else if (s.kind === "VAR_SET_DEFAULT" || s.kind === "VAR_RESET") current.delete(name);
    else if (s.kind === "VAR_RESET_ALL") current.clear();
  }
  return result;
}

function settingValue(args: Obj[] | undefined): string {
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
  const m = /^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)?\s*$/.exec(value);
  if (!m) return null;
  return Number(m[1]) * UNIT_MS[m[2] ?? "ms"];
}

export function formatDuration(ms: number): string {
  if (ms >= 3_600_000) return `${+(ms / 3_600_000).toFixed(1)} h`;
  if (ms >= 60_000) return `${+(ms / 60_000).toFixed(1)} min`;
  if (ms >= 1000) return `${+(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms)} ms`;
}
