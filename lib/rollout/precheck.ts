import { statfs } from "node:fs/promises";
import type pg from "pg";
import { lintText } from "../changeset/lint";
import { loadSchemaInfo } from "../changeset/schema";
import { quoteQualified } from "../sql/quote";
import { oldTransactions } from "../targets/activity";
import {
  archiverStatus,
  dataDirectory,
  indexState,
  preparedTransactions,
  relationByName,
  replicationStatus,
  serverOverview,
} from "../targets/catalog";
import type { TargetConfig } from "../targets/config";
import { targetUrl } from "../targets/urls";
import { withTargetClient } from "../targets/connect";
import { maintenanceWindow } from "../targets/windows";
import { partitionsCheck } from "./partitions";
import { withApplySession } from "./session";
import type { PlannedTask } from "./plan";
import type { CheckResult, PrecheckReport } from "./rollouts";

export interface Attestations {
  backupId?: string;
  diskFree?: string;
  windowOverride?: string;
  promotionWaiver?: string;
  searchPathWaiver?: string;
  by?: string;
}

export interface PrecheckInput {
  target: TargetConfig;
  changesetName: string;
  sql: string;
  tasks: PlannedTask[];
  attestations: Attestations;
  /** Whether the same sha256 is verified on a staging target (asked of the store by the caller). */
  stagingVerified: { rolloutId: number; targetId: string } | null;
  /** CLI with --database-url: no store and no target policy, so window and promotion are not checked. */
  direct?: boolean;
  /** Indexes (quoteQualified) on partitions that this rollout's earlier apply created: a resumed apply keeps them. */
  ownedPartitionIndexes?: ReadonlySet<string>;
  now?: Date;
}

/** A build needs room for the new index; 30% of the table is the seed's upper estimate for multi-column btrees. */
const INDEX_TO_TABLE_RATIO = 0.3;
const OLD_TRANSACTION_SECONDS = 60;
const MAX_REPLAY_LAG_SECONDS = 60;

function localHost(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return ["localhost", "127.0.0.1", "[::1]", "::1", ""].includes(host);
  } catch {
    return false;
  }
}

/** The playbook's pre-deployment checks, each with its evidence. Read-only on the target. */
export async function runPrecheck(input: PrecheckInput): Promise<PrecheckReport> {
  const { target, tasks, attestations } = input;
  const url = targetUrl(target);
  const checks = await withTargetClient(
    target,
    async (db): Promise<CheckResult[]> => {
      await db.query("BEGIN READ ONLY");
      const results: CheckResult[] = [];
      try {
        results.push(await serverVersionCheck(db));
        results.push(await diskCheck(db, url, tasks, attestations));
        results.push(await backupCheck(db, target, attestations));
        results.push(await oldTransactionCheck(db));
        results.push(await replicationCheck(db));
        results.push(await invalidIndexCheck(db, tasks, input.ownedPartitionIndexes ?? new Set()));
      } finally {
        await db.query("ROLLBACK");
      }
      results.push(await schemaCheck(db, input));
      return results;
    },
    { applicationName: "indexdeck:precheck", statementTimeoutMs: 15_000 },
  );
  checks.push(await sessionCheck(target, url, attestations));
  // Expanded in a session pinned as apply's is, so an unqualified table resolves to the one apply builds on.
  checks.push(
    await withApplySession({ url, applicationName: "indexdeck:precheck", searchPath: target.searchPath, connectTimeoutMs: 5000 }, (db) =>
      partitionsCheck(db, tasks, input.ownedPartitionIndexes ?? new Set()),
    ),
  );
  if (input.direct) {
    checks.push({
      id: "maintenance-window",
      title: "Maintenance window",
      status: "warn",
      summary: "not checked: --database-url has no target policy",
    });
    return { at: new Date().toISOString(), ok: checks.every((c) => c.status !== "fail"), checks };
  }
  const window = maintenanceWindow(target, input.now);
  const win = { id: "maintenance-window", title: "Maintenance window" };
  checks.push(
    window.open
      ? { ...win, status: "pass", summary: `inside ${window.window}` }
      : attestations.windowOverride
        ? {
            ...win,
            status: "warn",
            code: "window_overridden",
            summary: `${window.reason}; overridden by ${attestations.by}: ${attestations.windowOverride}`,
          }
        : { ...win, status: "fail", summary: window.reason },
  );
  if (target.environment === "production") {
    const promo = { id: "promotion", title: "Verified on staging first" };
    checks.push(
      input.stagingVerified
        ? {
            ...promo,
            status: "pass",
            summary: `same sha256 verified by rollout #${input.stagingVerified.rolloutId} on ${input.stagingVerified.targetId}`,
          }
        : attestations.promotionWaiver
          ? { ...promo, status: "warn", summary: `not verified on staging; waived by ${attestations.by}: ${attestations.promotionWaiver}` }
          : {
              ...promo,
              status: "fail",
              summary: target.stagingTarget
                ? `this exact change set (sha256) has not been verified on ${target.stagingTarget}, this target's staging, yet`
                : "this production target names no stagingTarget in the targets file, so no staging verification can count for it",
            },
    );
  }
  return { at: new Date().toISOString(), ok: checks.every((c) => c.status !== "fail"), checks };
}

async function serverVersionCheck(db: pg.ClientBase): Promise<CheckResult> {
  const s = await serverOverview(db);
  const base = { id: "server-version", title: "Server version", evidence: { version: s.serverVersion, versionNum: s.serverVersionNum } };
  if (s.serverVersionNum >= 140000 && s.serverVersionNum < 140004) {
    return {
      ...base,
      status: "fail",
      summary: `PostgreSQL ${s.serverVersion}: 14.0–14.3 can silently corrupt indexes built CONCURRENTLY; upgrade to 14.4+ (then REINDEX those built before)`,
    };
  }
  if (s.serverVersionNum < 120000)
    return {
      ...base,
      status: "fail",
      summary: `PostgreSQL ${s.serverVersion}: indexdeck needs 12+ (REINDEX CONCURRENTLY, progress reporting)`,
    };
  return { ...base, status: "pass", summary: `PostgreSQL ${s.serverVersion}` };
}

async function diskCheck(db: pg.ClientBase, url: string, tasks: PlannedTask[], att: Attestations): Promise<CheckResult> {
  let needed = 0;
  const perTable: Record<string, number> = {};
  for (const t of tasks.filter((x) => x.kind === "create_index" && x.tableName)) {
    const rel = await relationByName(db, quoteQualified(t.schemaName, t.tableName!));
    const est = Math.round(Number(rel?.bytes ?? 0) * INDEX_TO_TABLE_RATIO);
    perTable[t.indexName!] = est;
    needed += est;
  }
  const base = { id: "disk-space", title: "Free disk after build (≥ 10%)", code: "disk_low" as const };
  const dir = localHost(url) ? await dataDirectory(db) : null;
  if (dir) {
    try {
      const fs = await statfs(dir);
      const total = fs.blocks * fs.bsize;
      const free = fs.bavail * fs.bsize;
      const leftPct = ((free - needed) / total) * 100;
      const evidence = {
        dataDirectory: dir,
        totalBytes: total,
        freeBytes: free,
        estimatedIndexBytes: perTable,
        neededBytes: needed,
        freeAfterPercent: +leftPct.toFixed(1),
        method: "statfs of the data directory (target runs on this host)",
      };
      return leftPct >= 10
        ? {
            ...base,
            status: "pass",
            summary: `${(free / 2 ** 30).toFixed(1)} GiB free, ${(needed / 2 ** 20).toFixed(0)} MiB needed, ${leftPct.toFixed(1)}% left after`,
            evidence,
          }
        : { ...base, status: "fail", summary: `only ${leftPct.toFixed(1)}% would be left after the build (needs ≥ 10%)`, evidence };
    } catch {
      // not readable from here: fall through to attestation
    }
  }
  const evidence = {
    estimatedIndexBytes: perTable,
    neededBytes: needed,
    method: "PostgreSQL does not report free disk; a person must attest it",
  };
  if (att.diskFree)
    return {
      ...base,
      status: "pass",
      summary: `attested by ${att.by ?? "?"}: ${att.diskFree} (needs ~${(needed / 2 ** 20).toFixed(0)} MiB)`,
      evidence,
    };
  return {
    ...base,
    code: "disk_unknown",
    status: "fail",
    summary: `free disk unknown (the server can't report it): attest that ≥ 10% stays free after ~${(needed / 2 ** 20).toFixed(0)} MiB of new indexes`,
    evidence,
  };
}

async function backupCheck(db: pg.ClientBase, target: TargetConfig, att: Attestations): Promise<CheckResult> {
  const a = await archiverStatus(db);
  const base = { id: "backup", title: "Recent backup evidence", evidence: a };
  const maxAge = target.backup.maxAgeHours * 3600;
  if (
    target.backup.evidence === "archiver" &&
    a.archiveMode !== "off" &&
    a.lastArchivedAgeSeconds !== null &&
    a.lastArchivedAgeSeconds <= maxAge &&
    !(a.lastFailedAgeSeconds !== null && a.lastFailedAgeSeconds < a.lastArchivedAgeSeconds)
  ) {
    return { ...base, status: "pass", summary: `WAL archived ${Math.round(a.lastArchivedAgeSeconds / 60)} min ago (${a.lastArchivedWal})` };
  }
  if (att.backupId) return { ...base, status: "pass", summary: `backup ${att.backupId} attested by ${att.by ?? "?"}` };
  const why =
    target.backup.evidence === "archiver"
      ? `no WAL archived within ${target.backup.maxAgeHours} h (archive_mode=${a.archiveMode}${a.lastFailedAgeSeconds !== null ? `, last failure ${Math.round(a.lastFailedAgeSeconds / 60)} min ago` : ""})`
      : "this target's policy asks for an attested backup id";
  return { ...base, status: "fail", summary: `${why}: give the id of a recent backup` };
}

async function oldTransactionCheck(db: pg.ClientBase): Promise<CheckResult> {
  const old = await oldTransactions(db, OLD_TRANSACTION_SECONDS);
  const prepared = (await preparedTransactions(db)).filter((p) => p.ageSeconds > OLD_TRANSACTION_SECONDS);
  const base = {
    id: "old-transactions",
    title: "Old transactions and snapshots",
    code: "old_snapshot" as const,
    evidence: { sessions: old, prepared },
  };
  if (prepared.length)
    return {
      ...base,
      status: "fail",
      summary: `${prepared.length} prepared transaction(s) would stall every concurrent build until resolved (${prepared.map((p) => p.gid).join(", ")})`,
    };
  if (old.length)
    return {
      ...base,
      status: "warn",
      summary: `${old.length} session(s) hold transactions older than ${OLD_TRANSACTION_SECONDS}s; a concurrent build waits for them: ${old
        .slice(0, 3)
        .map((s) => `pid ${s.pid} (${s.application || s.user}, ${Math.round(s.xactAgeSeconds ?? 0)}s)`)
        .join(", ")}`,
    };
  return { ...base, status: "pass", summary: `no transaction older than ${OLD_TRANSACTION_SECONDS}s` };
}

async function replicationCheck(db: pg.ClientBase): Promise<CheckResult> {
  const r = await replicationStatus(db);
  const base = { id: "replication", title: "Replication", code: "replica_lag" as const, evidence: r };
  if (r.inRecovery) return { ...base, status: "fail", summary: "the target is a replica (in recovery): indexes are built on the primary" };
  if (r.replicas === 0) return { ...base, status: "pass", summary: "no replicas attached" };
  if ((r.maxReplayLagSeconds ?? 0) > MAX_REPLAY_LAG_SECONDS)
    return { ...base, status: "warn", summary: `replica replay lag ${Math.round(r.maxReplayLagSeconds!)}s; a build adds WAL and more lag` };
  return { ...base, status: "pass", summary: `${r.replicas} replica(s), max replay lag ${Math.round(r.maxReplayLagSeconds ?? 0)}s` };
}

async function invalidIndexCheck(db: pg.ClientBase, tasks: PlannedTask[], owned: ReadonlySet<string>): Promise<CheckResult> {
  const invalid: string[] = [];
  for (const t of tasks.filter((x) => x.kind === "create_index")) {
    const s = await indexState(db, quoteQualified(t.schemaName, t.indexName!));
    // A partitioned parent's index this rollout created is INVALID until its last partition is attached: apply resumes it.
    if (s.exists && !s.valid && !owned.has(quoteQualified(s.schema, t.indexName!))) invalid.push(t.indexName!);
  }
  const base = {
    id: "invalid-indexes",
    title: "No INVALID indexes with these names",
    code: "invalid_index" as const,
    evidence: { invalid },
  };
  return invalid.length
    ? {
        ...base,
        status: "fail",
        summary: `INVALID index(es) already exist: ${invalid.join(", ")}; IF NOT EXISTS would keep them broken. Drop them with a reviewed DROP INDEX CONCURRENTLY change set`,
      }
    : { ...base, status: "pass", summary: "none" };
}

async function schemaCheck(db: pg.ClientBase, input: PrecheckInput): Promise<CheckResult> {
  const schema = await loadSchemaInfo(db, [{ file: input.changesetName, text: input.sql }]);
  const report = await lintText({ file: input.changesetName, text: input.sql, schema });
  const errors = report.findings.filter((f) => f.severity === "error");
  const warnings = report.findings.filter((f) => f.severity === "warning");
  const base = {
    id: "schema",
    title: "Tables and columns exist (schema lint)",
    evidence: { findings: report.findings.map(({ line, column, rule, severity, message }) => ({ line, column, rule, severity, message })) },
  };
  if (errors.length) return { ...base, status: "fail", summary: errors.map((e) => `line ${e.line}: ${e.rule} ${e.message}`).join("; ") };
  if (warnings.length)
    return { ...base, status: "warn", summary: `${warnings.length} warning(s): ${warnings.map((w) => w.rule).join(", ")}` };
  return { ...base, status: "pass", summary: "every table and column exists; no schema findings" };
}

/**
 * The session builds will run in, opened as apply opens it: its role, its lexing settings and the
 * search_path every function in an index expression resolves through. A schema on that path that
 * other roles may CREATE in lets them plant a function or operator an index build then runs as the
 * target role (CVE-2018-1058; PUBLIC had CREATE on `public` before PostgreSQL 15).
 */
async function sessionCheck(target: TargetConfig, url: string, att: Attestations): Promise<CheckResult> {
  const base = { id: "session", title: "Build session: role, settings and search_path" };
  const { evidence, writable } = await withApplySession(
    { url, applicationName: "indexdeck:precheck", searchPath: target.searchPath, connectTimeoutMs: 5000 },
    async (db, evidence) => ({ evidence, writable: await writableSchemas(db) }),
  );
  const full = { ...base, evidence: { ...evidence, writableSchemas: writable } };
  const path = `search_path ${evidence.searchPath} as ${evidence.user}`;
  if (writable.length) {
    const who = writable.map((w) => `${w.schema} (CREATE: ${w.roles.join(", ")})`).join("; ");
    const summary = `schemas on the build's search_path are writable by roles other than their owner: ${who}; a function or operator planted there could run inside an index build`;
    if (target.environment !== "production") return { ...full, status: "warn", summary };
    if (att.searchPathWaiver) return { ...full, status: "warn", summary: `${summary}; waived by ${att.by}: ${att.searchPathWaiver}` };
    return {
      ...full,
      status: "fail",
      summary: `${summary}. Revoke CREATE, set the target's searchPath to schemas only the owner can write, or have an admin waive it in writing`,
    };
  }
  if (evidence.superuser)
    return {
      ...full,
      status: "warn",
      summary: `${path}: the target role is a superuser; a rollout needs only the grants in the README's least-privilege section`,
    };
  return { ...full, status: "pass", summary: `${path}; no schema on it is writable by other roles` };
}

/** Schemas on the session's path (pg_catalog aside) where a role other than the owner, or PUBLIC, holds CREATE. */
async function writableSchemas(db: pg.ClientBase): Promise<Array<{ schema: string; roles: string[] }>> {
  const { rows } = await db.query<{ schema: string; roles: string[] }>(
    `SELECT n.nspname AS schema,
            array_agg(CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END::text ORDER BY a.grantee) AS roles
       FROM pg_namespace n
      CROSS JOIN LATERAL aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) AS a
      WHERE n.nspname = ANY (current_schemas(false))
        AND n.nspname <> 'pg_catalog'
        AND a.privilege_type = 'CREATE'
        AND a.grantee <> n.nspowner
      GROUP BY n.nspname
      ORDER BY n.nspname`,
  );
  return rows;
}
