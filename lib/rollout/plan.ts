import { attachedPartition, createdIndex, droppedIndexes, isReindex } from "../changeset/nodes";
import { parseChangeSet, parserReady, type Statement } from "../changeset/parse";
import { DEFAULT_SESSION_LIMITS, type SessionLimits } from "../changeset/settings";
import { policyProblems } from "../changeset/statement-policy";
import { quoteQualified } from "../sql/quote";
import type { TargetConfig } from "../targets/config";

export type TaskKind = "set" | "create_index" | "drop_index" | "reindex" | "comment" | "analyze" | "attach_partition";

export interface PlannedTask {
  seq: number;
  kind: TaskKind;
  statement: string;
  line: number;
  indexName: string | null;
  schemaName: string | null;
  tableName: string | null;
  concurrent: boolean;
  ifNotExists: boolean;
  /** CREATE INDEX … ON ONLY: the parent's own (INVALID) index of a partitioned table; apply checks the table is partitioned. */
  only?: boolean;
}

export class PlanError extends Error {}

/** The task a statement the policy allows becomes; the policy has already refused every other kind. */
function taskFor(stmt: Statement, seq: number): PlannedTask {
  const base = {
    seq,
    statement: stmt.text.replace(/;\s*$/, ""),
    line: stmt.line,
    indexName: null,
    schemaName: null,
    tableName: null,
    concurrent: false,
    ifNotExists: false,
  };
  const created = createdIndex(stmt);
  const dropped = droppedIndexes(stmt);
  const reindex = isReindex(stmt);
  if (created)
    return {
      ...base,
      kind: "create_index",
      indexName: created.name,
      schemaName: created.schema,
      tableName: created.table,
      concurrent: created.concurrent,
      ifNotExists: created.ifNotExists,
      only: created.only,
    };
  if (dropped)
    return {
      ...base,
      kind: "drop_index",
      indexName: dropped.names[0].name,
      schemaName: dropped.names[0].schema,
      concurrent: dropped.concurrent,
      ifNotExists: dropped.ifExists,
    };
  if (reindex) return { ...base, kind: "reindex", concurrent: reindex.concurrent };
  const attached = attachedPartition(stmt);
  if (attached) return { ...base, kind: "attach_partition", indexName: attached.parent.name, schemaName: attached.parent.schema };
  if (stmt.kind === "VariableSetStmt") return { ...base, kind: "set" };
  if (stmt.kind === "CommentStmt") return { ...base, kind: "comment" };
  return { ...base, kind: "analyze" };
}

/**
 * Splits a change set into the tasks apply runs one by one, refusing the whole change set when any
 * statement must never run: nothing reaches the target unless every statement passed. Each refusal
 * names the file, line, column and rule; the judgement is the statement policy's, the same the
 * linter reports (suppression comments don't apply here).
 */
export async function planChangeSet(
  name: string,
  sql: string,
  environment: TargetConfig["environment"],
  limits: SessionLimits = DEFAULT_SESSION_LIMITS,
): Promise<PlannedTask[]> {
  await parserReady();
  const parsed = parseChangeSet(name, sql);
  if (parsed.syntaxErrors.length) {
    const e = parsed.syntaxErrors[0];
    throw new PlanError(`${name}:${e.line}:${e.column}: syntax-error: ${e.message}`);
  }
  const refusals: string[] = [];
  const tasks: PlannedTask[] = [];
  for (const stmt of parsed.statements) {
    const at = `${name}:${stmt.line}:${stmt.column}`;
    const problems = policyProblems(stmt, limits);
    refusals.push(...problems.map((p) => `${at}: ${p.rule}: ${p.message}`));
    if (problems.length) continue;
    const task = taskFor(stmt, tasks.length);
    if (task.kind === "create_index" && !task.indexName)
      refusals.push(`${at}: unnamed-index: every index needs a name, so it can be verified and rolled back`);
    // Invariant 1: never a blocking build on production, whatever the lint said. ON ONLY builds nothing
    // (apply runs it only on a partitioned table, where it creates the parent's empty, INVALID index).
    if (
      environment === "production" &&
      !task.concurrent &&
      !task.only &&
      (task.kind === "create_index" || task.kind === "drop_index" || task.kind === "reindex")
    ) {
      refusals.push(`${at}: ${task.kind.replace("_", " ")} without CONCURRENTLY is refused on a production target: it would block writes`);
    }
    tasks.push(task);
  }
  if (refusals.length) throw new PlanError(refusals.join("\n"));
  return tasks;
}

/** The one statement that drops an index indexdeck built: concurrently, and harmless if it is already gone. */
export function dropIndexStatement(schemaName: string | null, indexName: string, concurrent = true): string {
  return `DROP INDEX ${concurrent ? "CONCURRENTLY " : ""}IF EXISTS ${quoteQualified(schemaName, indexName)}`;
}

/**
 * An index a rollback removes: where it came from in the change set, and its name. A partitioned
 * index (ON ONLY, or a parent of an expanded build) PostgreSQL drops, with every index attached
 * below it, only without CONCURRENTLY.
 */
export type RollbackIndex = Pick<PlannedTask, "line" | "schemaName" | "tableName"> & { indexName: string; partitioned?: boolean };

/**
 * The rollback of a set of indexes, as tasks apply runs like any change set: a short lock_timeout
 * first (a drop waits for every transaction using the table; it must not queue writers behind it
 * for long), then one drop per index, concurrent wherever PostgreSQL can. Its steps are numbered on their own, from 0; they
 * are not the rollout's tasks. Which indexes is the caller's to say: those the rollout created (the
 * job), or every index the change set creates (the CLI without a store).
 */
export function planRollback(indexes: RollbackIndex[]): PlannedTask[] {
  const guard: PlannedTask = {
    seq: 0,
    kind: "set",
    statement: "SET lock_timeout = '2s'",
    line: 0,
    indexName: null,
    schemaName: null,
    tableName: null,
    concurrent: false,
    ifNotExists: false,
  };
  return [
    guard,
    ...indexes.map((t, i) => ({
      seq: i + 1,
      kind: "drop_index" as const,
      statement: dropIndexStatement(t.schemaName, t.indexName, !t.partitioned),
      line: t.line,
      indexName: t.indexName,
      schemaName: t.schemaName,
      tableName: t.tableName,
      concurrent: !t.partitioned,
      ifNotExists: true,
    })),
  ];
}
