import { createdIndex, droppedIndexes, isReindex, nodeBody } from "../changeset/nodes";
import { parseChangeSet, parserReady } from "../changeset/parse";
import type { TargetConfig } from "../targets/config";

export type TaskKind = "set" | "create_index" | "drop_index" | "reindex" | "comment" | "analyze" | "other";

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
}

export class PlanError extends Error {}

/** Splits a change set into the tasks apply runs one by one, refusing what must never run. */
export async function planChangeSet(name: string, sql: string, environment: TargetConfig["environment"]): Promise<PlannedTask[]> {
  await parserReady();
  const parsed = parseChangeSet(name, sql);
  if (parsed.syntaxErrors.length) {
    const e = parsed.syntaxErrors[0];
    throw new PlanError(`${name}:${e.line}:${e.column}: ${e.message}`);
  }
  const tasks = parsed.statements.map((stmt, seq): PlannedTask => {
    const created = createdIndex(stmt);
    const dropped = droppedIndexes(stmt);
    const reindex = isReindex(stmt);
    const base = { seq, statement: stmt.text.replace(/;\s*$/, ""), line: stmt.line, indexName: null, schemaName: null, tableName: null, concurrent: false, ifNotExists: false };
    if (stmt.kind === "VariableSetStmt") return { ...base, kind: "set" };
    if (created) return { ...base, kind: "create_index", indexName: created.name, schemaName: created.schema, tableName: created.table, concurrent: created.concurrent, ifNotExists: created.ifNotExists };
    if (dropped) return { ...base, kind: "drop_index", indexName: dropped.names[0]?.name ?? null, schemaName: dropped.names[0]?.schema ?? null, concurrent: dropped.concurrent, ifNotExists: dropped.ifExists };
    if (reindex) return { ...base, kind: "reindex", concurrent: reindex.concurrent };
    if (stmt.kind === "CommentStmt" && nodeBody(stmt, "CommentStmt")!.objtype === "OBJECT_INDEX") return { ...base, kind: "comment" };
    if (stmt.kind === "VacuumStmt" && !nodeBody(stmt, "VacuumStmt")!.is_vacuumcmd) return { ...base, kind: "analyze" };
    return { ...base, kind: "other" };
  });
  for (const t of tasks) {
    if (t.kind === "other") throw new PlanError(`${name}:${t.line}: only SET, CREATE/DROP INDEX, REINDEX, COMMENT ON INDEX and ANALYZE may run in a rollout`);
    if (/^\s*(BEGIN|START|COMMIT|END|ROLLBACK|SAVEPOINT)/i.test(t.statement)) throw new PlanError(`${name}:${t.line}: transaction control cannot run in a rollout`);
    if (t.kind === "create_index" && !t.indexName) throw new PlanError(`${name}:${t.line}: every index needs a name, so it can be verified and rolled back`);
    // Invariant 1: never a blocking build on production, whatever the lint said.
    if (environment === "production" && !t.concurrent && ["create_index", "drop_index", "reindex"].includes(t.kind)) {
      throw new PlanError(`${name}:${t.line}: ${t.kind.replace("_", " ")} without CONCURRENTLY is refused on a production target: it would block writes`);
    }
  }
  return tasks;
}
