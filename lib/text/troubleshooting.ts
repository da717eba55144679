/**
 * text/ — what people read, rendered from data in one place: numbers, sizes and times (format.ts),
 * and advice by failure code (this file).
 *
 * The seed playbook's troubleshooting guide, in one place: each failure indexdeck can recognise
 * links here from the rollout page and the report.
 */
export const TROUBLESHOOTING = {
  "lock-timeout": {
    title: "Lock timeout: the build could not get its lock",
    body: "Another session held a lock that conflicts with the build's SHARE UPDATE EXCLUSIVE lock (an ALTER TABLE, a VACUUM FULL, a long transaction that touched the table). The blockers panel names the session (pid, user, application, query). Let it finish or end it yourself after checking with its owner; indexdeck never kills other sessions. Then run pre-check and apply again; finished indexes are kept.",
  },
  "old-snapshot": {
    title: "Build waiting for old snapshots",
    body: "A concurrent build must wait for every transaction whose snapshot is older than the build. The blockers panel shows the session (often an idle-in-transaction connection or a long report). The build continues by itself once that transaction ends; if it cannot end, cancel the build (the INVALID index is dropped) and retry later.",
  },
  "invalid-index": {
    title: "INVALID index left by a failed build",
    body: "A concurrent build that fails (statement_timeout, unique violation, cancel, lost connection) leaves an INVALID index that is maintained on every write but never used, and IF NOT EXISTS would skip it forever. indexdeck checks for it after every failure and drops it with DROP INDEX CONCURRENTLY; if that drop could not run (a lock held on the table), the event log says so and the report shows the exact statement to run.",
  },
  "statement-timeout": {
    title: "statement_timeout ended the build",
    body: "The change set's statement_timeout is shorter than the build. Raise it (SET statement_timeout = 0 before concurrent builds is usual) in a new version of the change set; lock_timeout keeps the build from queueing behind locks. The linter's timeout-too-short rule estimates this before apply.",
  },
  "unique-violation": {
    title: "Unique index over duplicate keys",
    body: "CREATE UNIQUE INDEX found duplicate values. Find them (SELECT key, count(*) … GROUP BY key HAVING count(*) > 1), fix the data or make the index non-unique, then apply again. The INVALID index it left has been dropped.",
  },
  "disk-low": {
    title: "Disk running low",
    body: "A build needs room for the new index (≈ 10–30% of the table for multi-column btrees) plus sort space. Pre-check requires ≥ 10% free after the build. Free space or grow the volume before applying; never let a database volume fill up.",
  },
  "planner-not-using-index": {
    title: "The planner does not use the new index",
    body: "Usually stale statistics: run ANALYZE on the table (a reviewed change set with ANALYZE is allowed) and verify again. Otherwise the query may not be selective enough for that index (most rows match), the column order may not fit the WHERE and ORDER BY, or the query casts the column. EXPLAIN in the verify results shows the chosen plan.",
  },
  "replica-lag": {
    title: "Replica lagging",
    body: "Index builds write WAL that replicas must replay. If replay lag is already high, wait for it to shrink before applying, and watch it during the build; on very large tables build in a quieter window.",
  },
  "connection-lost": {
    title: "Connection to the target lost",
    body: "The target restarted, failed over or the network dropped. indexdeck checks the catalog when it can reach the target again and drops any INVALID index left behind; check the target, then run pre-check and apply again.",
  },
} as const;

export type TroubleshootingId = keyof typeof TROUBLESHOOTING;

/**
 * Why a phase failed or a check did not pass, as data. The engine returns these (apply's results, the
 * job runner's errors, the checks of pre-check and verify); the page, the report and the API pick the
 * advice by code, so rewording a message can never change what is advised or decided.
 */
export const FAILURE_CODES = [
  "lock_timeout",
  "statement_timeout",
  "unique_violation",
  "invalid_index",
  "connection_lost",
  "target_unreachable",
  "old_snapshot",
  "disk_low",
  "disk_unknown",
  "replica_lag",
  "planner_not_using_index",
  "cancelled",
  "sha256_mismatch",
  "approvals_missing",
] as const;
export type FailureCode = (typeof FAILURE_CODES)[number];

const ADVICE: Partial<Record<FailureCode, TroubleshootingId>> = {
  lock_timeout: "lock-timeout",
  statement_timeout: "statement-timeout",
  unique_violation: "unique-violation",
  invalid_index: "invalid-index",
  connection_lost: "connection-lost",
  target_unreachable: "connection-lost",
  old_snapshot: "old-snapshot",
  disk_low: "disk-low",
  disk_unknown: "disk-low",
  replica_lag: "replica-lag",
  planner_not_using_index: "planner-not-using-index",
};

/** The entry that explains a failure, if one does. */
export function troubleshootingFor(code: FailureCode | null | undefined): TroubleshootingId | null {
  return (code && ADVICE[code]) ?? null;
}

/** The entry for a pre-check or verify check that did not pass. */
export function troubleshootingForCheck(check: { status: string; code?: FailureCode | "window_overridden" }): TroubleshootingId | null {
  if (check.status === "pass" || !check.code || check.code === "window_overridden") return null;
  return troubleshootingFor(check.code);
}
