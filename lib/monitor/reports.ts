import { dropIndexStatement } from "../rollout/plan";
import type { TargetConfig } from "../targets/config";
import { withTargetClient } from "../targets/connect";
import { indexInventory, statsReset, type IndexRow } from "../targets/usage";

export interface Finding {
  kind: "unused" | "duplicate" | "redundant" | "invalid";
  schema: string;
  table: string;
  index: string;
  bytes: number;
  reason: string;
  /** A change set that removes it, to be linted, approved and rolled out like any other. */
  dropChangeSet: string;
}

export interface IndexReport {
  statsResetAt: string | null;
  unused: Finding[];
  duplicate: Finding[];
  invalid: Finding[];
}

export interface ReportOptions {
  /** Unused indexes smaller than this are not worth a rollout. */
  minBytes?: number;
  statsResetAt: Date | null;
  now?: Date;
}

/**
 * The draft that removes an index: the statement a rollback runs (lib/rollout/plan.ts). Only the one identifier helper puts the catalog's names into the
 * text, and no catalog text goes into the comment: a `--` comment ends at CR or LF, so a name or a
 * reason carrying one would continue as SQL. The reason stays in the report (Reports tab, CLI).
 */
export function dropChangeSet(schema: string, name: string, kind: Finding["kind"]): string {
  return `-- Drafted by indexdeck from the index report (${kind} index).\nSET lock_timeout = '2s';\nSET statement_timeout = 0;\n${dropIndexStatement(schema, name)};\n`;
}

function finding(kind: Finding["kind"], r: IndexRow, reason: string): Finding {
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

/**
 * Unused, duplicate/redundant and invalid indexes, as pgHero reasons about them: comparison of
 * definitions happens here rather than in SQL, where it is easier to read and to test.
 */
export function indexReport(rows: IndexRow[], opts: ReportOptions): IndexReport {
  const minBytes = opts.minBytes ?? 1024 * 1024;
  const now = opts.now ?? new Date();
  const since = opts.statsResetAt
    ? `since statistics were reset ${Math.round((now.getTime() - opts.statsResetAt.getTime()) / 3_600_000)} h ago (${opts.statsResetAt.toISOString()})`
    : "since the server started (statistics never reset)";

  const unused = rows
    .filter((r) => r.valid && r.scans === 0 && !r.constraint && !r.unique && r.bytes >= minBytes)
    .map((r) => finding("unused", r, `no scans ${since}; ${(r.bytes / 2 ** 20).toFixed(1)} MiB`));

  const duplicate: Finding[] = [];
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

  return { statsResetAt: opts.statsResetAt?.toISOString() ?? null, unused, duplicate: dedup, invalid };
}

/** Reads a target's indexes (read-only, short timeout) and reports what could go. */
export async function reportForTarget(
  target: TargetConfig | { id: string; url: string },
  opts: { minBytes?: number } = {},
): Promise<IndexReport & { indexes: IndexRow[] }> {
  return withTargetClient(
    target,
    async (db) => {
      await db.query("BEGIN READ ONLY");
      try {
        const [rows, reset] = [await indexInventory(db), await statsReset(db)];
        return { ...indexReport(rows, { minBytes: opts.minBytes, statsResetAt: reset }), indexes: rows };
      } finally {
        await db.query("ROLLBACK");
      }
    },
    { applicationName: "indexdeck:report", statementTimeoutMs: 15_000 },
  );
}
