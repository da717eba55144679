import { dropIndexStatement } from "../rollout/plan";
import type { TargetConfig } from "../targets/config";
import { readNodes, type AdHocTarget, type NodeProblem, type NodeRead, type TargetNode } from "../targets/nodes";
import { indexInventory, type IndexRow, type NodeClock } from "../targets/inventory";

export interface IndexFinding {
  kind: "unused" | "duplicate" | "redundant" | "invalid";
  schema: string;
  table: string;
  index: string;
  bytes: number;
  reason: string;
  /** A change set that removes it, to be linted, approved and rolled out like any other. */
  dropChangeSet: string;
}

/** One node's part of the evidence: since when its counters count, or why they don't. */
export interface NodeEvidence {
  node: string;
  role: TargetNode["role"];
  label: string;
  statsResetAt: string | null;
  /** The later of its last statistics reset and its start: scans before it may have been lost. */
  countingSince: string | null;
  windowDays: number | null;
  problem: NodeProblem | null;
}

export const VERDICTS = ["used", "unused", "not-enough-evidence"] as const;

/** Whether an index that could go unused did: judged on the scans of every node, per node. */
export interface UsageVerdict {
  schema: string;
  table: string;
  index: string;
  bytes: number;
  verdict: (typeof VERDICTS)[number];
  reason: string;
  /** Every node's scans of it (null where the node gave no evidence) and the days they cover. */
  nodes: Array<{ node: string; scans: number | null; countingSince: string | null; windowDays: number | null }>;
}

export interface IndexReport {
  /** The primary's last statistics reset. */
  statsResetAt: string | null;
  /** Days of zero scans on every node an unused index needs. */
  windowDays: number;
  nodes: NodeEvidence[];
  /** Every index that could be unused (valid, backing no constraint, not unique, big enough), with its verdict. */
  usage: UsageVerdict[];
  unused: IndexFinding[];
  duplicate: IndexFinding[];
  invalid: IndexFinding[];
}

/** A catalog row with its scans on every node: `scans` is their total over the nodes that answered. */
export type NodeIndexRow = IndexRow & { nodeScans: Record<string, number | null> };

/** What one node told: its clock, and its indexes when it could be read. */
export type NodeReport = Pick<NodeRead<IndexRow[]>, "node" | "clock" | "data" | "problem">;

export interface ReportOptions {
  /** Unused indexes smaller than this are not worth a rollout. */
  minBytes?: number;
  /** Days without a scan on every node, counted from each node's last reset, before an index is unused (default 14). */
  windowDays?: number;
  now?: Date;
}

export const DEFAULT_UNUSED_WINDOW_DAYS = 14;
const DAY_MS = 86_400_000;

/**
 * The draft that removes an index: the statement a rollback runs (lib/rollout/plan.ts). Only the one identifier helper puts the catalog's names into the
 * text, and no catalog text goes into the comment: a `--` comment ends at CR or LF, so a name or a
 * reason carrying one would continue as SQL. The reason stays in the report (Reports tab, CLI).
 */
export function dropChangeSet(schema: string, name: string, kind: IndexFinding["kind"]): string {
  return `-- Drafted by indexdeck from the index report (${kind} index).\nSET lock_timeout = '2s';\nSET statement_timeout = 0;\n${dropIndexStatement(schema, name)};\n`;
}

function finding(kind: IndexFinding["kind"], r: IndexRow, reason: string): IndexFinding {
  return {
    kind,
    schema: r.schema,
    table: r.table,
    index: r.name,
    bytes: r.bytes,
    reason,
    dropChangeSet: dropChangeSet(r.schema, r.name, kind),
  };
}

const rank = (r: IndexRow) => (r.constraint ? 2 : 0) + (r.unique ? 1 : 0);
const keepsOver = (b: IndexRow, a: IndexRow) => rank(b) > rank(a) || (rank(b) === rank(a) && b.name < a.name);

const isPrefix = (a: Array<string | null>, b: Array<string | null>) => a.length <= b.length && a.every((c, i) => c === b[i]);

function evidenceOf(n: NodeReport, now: Date): NodeEvidence {
  const since = n.clock && !n.problem ? countingSince(n.clock) : null;
  return {
    node: n.node.id,
    role: n.node.role,
    label: n.node.label,
    statsResetAt: n.clock?.statsReset?.toISOString() ?? null,
    countingSince: since?.toISOString() ?? null,
    windowDays: since ? Math.round(((now.getTime() - since.getTime()) / DAY_MS) * 10) / 10 : null,
    problem: n.problem,
  };
}

/**
 * Counters count from the node's last statistics reset, or from its start if later: a crash (and, before
 * PostgreSQL 15, an immediate shutdown) discards them without a reset time, and nothing tells the two apart.
 */
function countingSince(clock: NodeClock): Date {
  return clock.statsReset && clock.statsReset > clock.postmasterStart ? clock.statsReset : clock.postmasterStart;
}

const rowKey = (schema: string, name: string) => JSON.stringify([schema, name]);
const days = (d: number) => `${d.toFixed(1)} days`;

/**
 * The verdict on one index from every node's scans of it. Scans anywhere: used. Otherwise it is unused only
 * if every node answered, holds the index, and has counted for at least `windowDays`; else there is not
 * enough evidence, and the reason names each node that falls short and why.
 */
function verdictOf(
  r: IndexRow,
  nodes: NodeReport[],
  evidence: NodeEvidence[],
  byNode: Array<Map<string, IndexRow>>,
  windowDays: number,
): UsageVerdict {
  const perNode = nodes.map((n, i) => {
    const row = byNode[i].get(rowKey(r.schema, r.name));
    return { node: n.node.id, scans: row ? row.scans : null, countingSince: evidence[i].countingSince, windowDays: evidence[i].windowDays };
  });
  const base = { schema: r.schema, table: r.table, index: r.name, bytes: r.bytes, nodes: perNode };
  const used = perNode.filter((n) => (n.scans ?? 0) > 0);
  if (used.length)
    return {
      ...base,
      verdict: "used",
      reason: `used: ${used.map((n) => `${n.scans!.toLocaleString("en")} scans on ${n.node}`).join(", ")}`,
    };
  const short = nodes.flatMap((n, i) => {
    if (n.problem) return [`${n.node.id} ${n.problem.message}`];
    if (perNode[i].scans === null) return [`${n.node.id} does not hold the index (yet)`];
    if (evidence[i].windowDays! < windowDays)
      return [
        `${n.node.id} counts scans only since ${evidence[i].countingSince} (${days(evidence[i].windowDays!)}, fewer than ${windowDays})`,
      ];
    return [];
  });
  if (short.length) return { ...base, verdict: "not-enough-evidence", reason: `not enough evidence: ${short.join("; ")}` };
  const covered = perNode.map((n) => `${n.node} for ${days(n.windowDays!)} (since ${n.countingSince})`).join(", ");
  return { ...base, verdict: "unused", reason: `no scans on any node: ${covered}; ${(r.bytes / 2 ** 20).toFixed(1)} MiB` };
}

/**
 * Unused, duplicate/redundant and invalid indexes, as pgHero reasons about them: comparison of
 * definitions happens here rather than in SQL, where it is easier to read and to test. The catalog is
 * the primary's (the first node); whether an index is unused is decided on every node's scans.
 */
export function indexReport(nodes: NodeReport[], opts: ReportOptions = {}): IndexReport & { indexes: NodeIndexRow[] } {
  const minBytes = opts.minBytes ?? 1024 * 1024;
  const windowDays = opts.windowDays ?? DEFAULT_UNUSED_WINDOW_DAYS;
  const now = opts.now ?? new Date();
  const [primary] = nodes;
  const rows = primary.data!;
  const evidence = nodes.map((n) => evidenceOf(n, now));
  const byNode = nodes.map((n) => new Map((n.data ?? []).map((x) => [rowKey(x.schema, x.name), x])));
  const indexes = rows.map((r): NodeIndexRow => {
    const nodeScans = Object.fromEntries(nodes.map((n, i) => [n.node.id, byNode[i].get(rowKey(r.schema, r.name))?.scans ?? null]));
    return { ...r, scans: Object.values(nodeScans).reduce<number>((sum, x) => sum + (x ?? 0), 0), nodeScans };
  });

  const candidates = rows.filter((r) => r.valid && !r.constraint && !r.unique && r.bytes >= minBytes);
  const usage = candidates.map((r) => verdictOf(r, nodes, evidence, byNode, windowDays));
  const unused = candidates.flatMap((r, i) => (usage[i].verdict === "unused" ? [finding("unused", r, usage[i].reason)] : []));

  const duplicate: IndexFinding[] = [];
  const byTable = new Map<string, IndexRow[]>();
  for (const r of rows.filter((x) => x.valid)) {
    // Not `${schema}.${table}`: schema "a.b" with table "c" and schema "a" with table "b.c" would meet.
    const key = JSON.stringify([r.schema, r.table]);
    byTable.set(key, [...(byTable.get(key) ?? []), r]);
  }
  for (const group of byTable.values()) {
    // Compare against the strongest candidates first, so a finding names the constraint it duplicates.
    const strongestFirst = [...group].sort((x, y) => rank(y) - rank(x));
    for (const a of group) {
      for (const b of strongestFirst) {
        if (a === b || a.method !== b.method || a.expressions !== b.expressions || a.predicate !== b.predicate) continue;
        if (a.constraint) continue; // a constraint's index is never the one to drop
        if (a.columns.length === b.columns.length && isPrefix(a.columns, b.columns)) {
          // Of two identical indexes keep the one that backs a constraint, else the unique one, else the first by name.
          if (!keepsOver(b, a)) continue;
          duplicate.push(
            finding(
              "duplicate",
              a,
              `same columns (${a.columns.join(", ")}) as ${b.name}${b.constraint ? ` (backs constraint ${b.constraint})` : ""}`,
            ),
          );
        } else if (a.columns.length < b.columns.length && isPrefix(a.columns, b.columns) && !a.unique && a.method === "btree") {
          duplicate.push(
            finding("redundant", a, `its columns (${a.columns.join(", ")}) are a leading prefix of ${b.name} (${b.columns.join(", ")})`),
          );
        }
      }
    }
  }
  // Keyed by schema and name: two schemas may each hold an index of the same name.
  const seen = new Set<string>();
  const dedup = duplicate.filter((f) => {
    const key = JSON.stringify([f.schema, f.index]);
    return seen.has(key) ? false : (seen.add(key), true);
  });

  const invalid = rows
    .filter((r) => !r.valid && !r.buildInProgress)
    .map((r) => finding("invalid", r, "INVALID (a failed concurrent build left it): it is maintained on every write but never used"));

  return { statsResetAt: evidence[0].statsResetAt, windowDays, nodes: evidence, usage, unused, duplicate: dedup, invalid, indexes };
}

/**
 * Reads a target's indexes on its primary and their scans on every replica (read-only, short timeout), and
 * reports what could go.
 */
export async function reportForTarget(
  target: TargetConfig | AdHocTarget,
  opts: { minBytes?: number; windowDays?: number } = {},
): Promise<IndexReport & { indexes: NodeIndexRow[] }> {
  const nodes = await readNodes(
    target,
    async (db) => {
      await db.query("BEGIN READ ONLY");
      try {
        return await indexInventory(db);
      } finally {
        await db.query("ROLLBACK");
      }
    },
    { applicationName: "indexdeck:report", statementTimeoutMs: 15_000 },
  );
  return indexReport(nodes, {
    minBytes: opts.minBytes,
    windowDays: opts.windowDays ?? ("environment" in target ? target.unusedWindowDays : undefined),
  });
}
