/**
 * What every phase file under lib/rollout/phases/ exports, and what they share. A phase's `guard` is
 * what must hold before its job touches the target; its `run` does the work and ends the job through
 * the machine's `settle` (lib/rollout/machine.ts), the only way a job moves a rollout.
 */
import type pg from "pg";
import type { Job } from "../../jobs/queue";
import { changeSetDigest } from "../../changeset/store";
import type { TargetConfig } from "../../targets/config";
import type { ProbeOptions } from "../../monitor/latency";
import type { ApplyOptions } from "../apply";
import { approvalCount } from "../approvals";
import type { JobPhase } from "../machine";
import type { PlannedTask } from "../plan";
import type { Rollout } from "../rollouts";
import type { TargetSource } from "../../targets/source";

export interface PhaseContext {
  pool: pg.Pool;
  /** Asked at every job: the targets as they govern when the job starts. */
  targets: TargetSource;
  apply?: Partial<Pick<ApplyOptions, "pollIntervalMs" | "lockRetries" | "backoffMs">>;
  probe?: ProbeOptions;
}

/** One job of a phase, with what the runner looked up for it. */
export interface PhaseJob {
  ctx: PhaseContext;
  job: Job;
  rollout: Rollout;
  target: TargetConfig;
  tasks: PlannedTask[];
}

export interface PhaseFile<P extends JobPhase> {
  phase: P;
  guard(pool: pg.Pool, rollout: Rollout): Promise<void>;
  run(j: PhaseJob): Promise<void>;
}

/** The application_name of every session a rollout opens on its target: how a restarted server finds its builds. */
export function applicationName(rolloutId: number): string {
  return `indexdeck:${rolloutId}`;
}

/** The rollout's SQL is not what was approved: nothing may run. */
export class IntegrityError extends Error {
  constructor(
    readonly code: "sha256_mismatch" | "approvals_missing",
    message: string,
  ) {
    super(message);
  }
}

/**
 * What runs is what was approved (invariant 9), checked again before every phase that touches the
 * target, resumes after a takeover included: the stored SQL and query patterns must hash to the sha256
 * the approvals name, and enough distinct people must have approved that sha256 for this rollout.
 */
export async function requireApproved(pool: pg.Pool, rollout: Rollout): Promise<void> {
  const actual = changeSetDigest(rollout.changesetSql, rollout.changesetWorkloads);
  if (actual !== rollout.changesetSha256) {
    throw new IntegrityError(
      "sha256_mismatch",
      `the rollout's SQL and query patterns hash to ${actual.slice(0, 12)}…, not the approved ${rollout.changesetSha256.slice(0, 12)}…: nothing was run`,
    );
  }
  const approvals = await approvalCount(pool, rollout.id, rollout.changesetSha256);
  if (approvals < rollout.approvalsRequired) {
    throw new IntegrityError(
      "approvals_missing",
      `${approvals} of ${rollout.approvalsRequired} approvals of sha256 ${rollout.changesetSha256.slice(0, 12)}… are on record: nothing was run`,
    );
  }
}
