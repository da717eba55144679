import type { BuildProgress } from "../targets/progress";

/**
 * Where each phase of CREATE INDEX [CONCURRENTLY] sits on a 0–100 scale (PostgreSQL's own phase
 * names, see the pg_stat_progress_create_index docs). Within a phase, blocks or tuples done move the
 * bar; waiting phases hold it still, which is exactly what a person watching should see.
 */
const BUILD_PHASES: Array<[string, number, number, "blocks" | "tuples" | "lockers" | null]> = [
  ["initializing", 0, 1, null],
  ["waiting for writers before build", 1, 3, "lockers"],
  ["building index: scanning table", 3, 40, "blocks"],
  ["building index: sorting live tuples", 40, 45, "tuples"],
  ["building index: loading tuples in tree", 45, 55, "tuples"],
  ["waiting for writers before validation", 55, 57, "lockers"],
  ["index validation: scanning index", 57, 67, "blocks"],
  ["index validation: sorting tuples", 67, 72, "tuples"],
  ["index validation: scanning table", 72, 95, "blocks"],
  ["waiting for old snapshots", 95, 97, "lockers"],
  ["waiting for readers before marking dead", 97, 98, "lockers"],
  ["waiting for readers before dropping", 98, 99, "lockers"],
];

const phaseRow = (phase: string) => BUILD_PHASES.find(([name]) => phase.startsWith(name));

/**
 * What a build waits for, if it waits on other sessions: "transactions" in PostgreSQL's waiting phases
 * (writers, old snapshots, readers: the phases counted in lockers), "lock" when it is queued behind a
 * conflicting lock before its progress row exists.
 */
export function buildWait(p: { phase: string; waitEventType: string | null }): "lock" | "transactions" | null {
  if (phaseRow(p.phase)?.[3] === "lockers") return "transactions";
  return p.waitEventType === "Lock" ? "lock" : null;
}

export function overallPercent(
  p: Pick<BuildProgress, "phase" | "blocksDone" | "blocksTotal" | "tuplesDone" | "tuplesTotal" | "lockersDone" | "lockersTotal">,
): number {
  const row = phaseRow(p.phase);
  if (!row) return 0;
  const [, from, to, unit] = row;
  const [done, total] =
    unit === "blocks"
      ? [p.blocksDone, p.blocksTotal]
      : unit === "tuples"
        ? [p.tuplesDone, p.tuplesTotal]
        : unit === "lockers"
          ? [p.lockersDone, p.lockersTotal]
          : [0, 0];
  const frac = total > 0 ? Math.min(1, done / total) : 0;
  return Math.round((from + (to - from) * frac) * 10) / 10;
}

/** The task status a person should see for what the backend is doing now. */
export function taskStatusFor(phase: string | null, waitEventType: string | null): "waiting_for_lock" | "building" | "validating" {
  if (waitEventType === "Lock") return "waiting_for_lock";
  if (phase?.startsWith("index validation")) return "validating";
  return "building";
}
