/**
 * The bounds a target sets on its change sets' build settings. Kept apart from the file's schema
 * (config.ts, whose defaults are these), so a direct apply loads no validation library.
 */
import { DEFAULT_SESSION_LIMITS, parseMemoryKb, type SessionLimits } from "../changeset/settings";
import type { TargetConfig } from "./config";

/** A target's `limits` when its file says none. */
export const DEFAULT_TARGET_LIMITS = {
  maintenanceWorkMem: "1GB",
  parallelMaintenanceWorkers: DEFAULT_SESSION_LIMITS.maxParallelMaintenanceWorkers,
} as const;

/**
 * The bounds the statement policy holds this target's change sets to. The target's apply settings are
 * bounds too: a change set may SET a build gentler than the target's pacing, never harsher.
 */
export function sessionLimits(target: {
  limits: TargetConfig["limits"];
  apply: Pick<TargetConfig["apply"], "maintenanceWorkMem" | "maxParallelMaintenanceWorkers">;
}): SessionLimits {
  const paced = target.apply;
  return {
    ...DEFAULT_SESSION_LIMITS,
    maxMaintenanceWorkMemKb: Math.min(
      parseMemoryKb(target.limits.maintenanceWorkMem)!,
      paced.maintenanceWorkMem === undefined ? Infinity : parseMemoryKb(paced.maintenanceWorkMem)!,
    ),
    maxParallelMaintenanceWorkers: Math.min(target.limits.parallelMaintenanceWorkers, paced.maxParallelMaintenanceWorkers ?? Infinity),
  };
}
