import { createHash } from "node:crypto";
import type pg from "pg";
import type { Actor } from "../auth/policy";
import { ChangeSetExistsError, createChangeSet, UploadChangeSet, type ChangeSet } from "../changeset/store";
import { droppedIndexes, nodeBody } from "../changeset/nodes";
import { parseChangeSet, parserReady } from "../changeset/parse";
import { PlanError, planChangeSet } from "../rollout/plan";
import { quoteQualified } from "../sql/quote";
import type { TargetConfig } from "../targets/config";
import { dropChangeSet, reportForTarget, type IndexFinding, type UsageVerdict } from "./index-report";

/** A draft whose SQL does not re-parse as the one drop it was made for; nothing was stored. */
export class DraftRefusedError extends Error {}

export interface DroppedIndex {
  schema: string;
  name: string;
}

/**
 * Re-plans a DROP draft and reads its parse tree: it must hold exactly one `DROP INDEX CONCURRENTLY
 * IF EXISTS` (RESTRICT), of exactly the catalog's schema and name, and nothing but SETs beside it.
 * Whatever built the text, this is what the server will be asked to run, so this is what is checked.
 */
export async function checkDropDraft(
  file: string,
  sql: string,
  expected: DroppedIndex,
  environment: TargetConfig["environment"],
): Promise<void> {
  const wanted = quoteQualified(expected.schema, expected.name);
  const refuse = (why: string) => new DraftRefusedError(`${file}: refused to store the draft to drop ${wanted}: ${why}`);
  let tasks;
  try {
    tasks = await planChangeSet(file, sql, environment);
  } catch (err) {
    if (err instanceof PlanError) throw refuse(`it does not plan (${err.message})`);
    throw err;
  }
  await parserReady();
  const parsed = parseChangeSet(file, sql);
  if (parsed.syntaxErrors.length) throw refuse(`line ${parsed.syntaxErrors[0].line}: ${parsed.syntaxErrors[0].message}`);
  const drops = parsed.statements.filter((s) => s.kind === "DropStmt");
  if (drops.length !== 1) throw refuse(`it re-parses as ${drops.length} DROP statements, not 1`);
  const other = parsed.statements.find((s) => s.kind !== "DropStmt" && s.kind !== "VariableSetStmt");
  if (other) throw refuse(`line ${other.line} is a ${other.kind}; a drop draft holds only SETs and the drop`);
  if (tasks.filter((t) => t.kind === "drop_index").length !== 1) throw refuse("the plan does not see exactly one drop of an index");
  const [drop] = drops;
  const dropped = droppedIndexes(drop);
  if (!dropped) throw refuse(`line ${drop.line} drops something other than an index`);
  if (dropped.names.length !== 1) throw refuse(`line ${drop.line} drops ${dropped.names.length} indexes, not 1`);
  const [got] = dropped.names;
  if (got.schema !== expected.schema || got.name !== expected.name) {
    throw refuse(`line ${drop.line} drops ${quoteQualified(got.schema, got.name)} instead`);
  }
  if (!dropped.concurrent || !dropped.ifExists) throw refuse(`line ${drop.line} must be DROP INDEX CONCURRENTLY IF EXISTS`);
  if (nodeBody(drop, "DropStmt")!.behavior === "DROP_CASCADE")
    throw refuse(`line ${drop.line} has CASCADE, which would drop what depends on the index too`);
}

/**
 * A change set name the store accepts (letters, digits, `_`, `.`, `-`): the index name with every
 * other character replaced, plus a digest of the exact schema and name when anything was replaced,
 * so two names that read alike still get two names.
 */
export function draftName(index: DroppedIndex, day: Date): string {
  const safe = index.name.replace(/[^A-Za-z0-9_]/g, "_");
  const digest =
    safe === index.name
      ? ""
      : `_${createHash("sha256")
          .update(JSON.stringify([index.schema, index.name]))
          .digest("hex")
          .slice(0, 8)}`;
  const date = day.toISOString().slice(0, 10).replace(/-/g, "");
  return UploadChangeSet.shape.name.parse(`drop_${safe.slice(0, 60)}${digest}_${date}.sql`);
}

export type DraftResult =
  | { outcome: "created"; changeSet: ChangeSet }
  | { outcome: "exists" }
  | { outcome: "no-finding" }
  /** Refused: the index has scans on some node, or some node can't vouch that it has none; `verdict.reason` names them. */
  | { outcome: "kept"; verdict: UsageVerdict };

/**
 * Turns a report finding into a DROP INDEX CONCURRENTLY change set, which then goes through lint,
 * approval and rollout like any other. The SQL is rebuilt here from a fresh read of the target's
 * catalog (the caller only names schema and index) and checked by checkDropDraft before it is stored.
 * An index that is no finding is refused with its verdict when it could have been unused: the verdict
 * names each node it is used on with its scans, or the node that can't vouch for it.
 * `build` is the text builder; tests pass another one to show what a disagreeing draft meets.
 */
export async function draftDropChangeSet(
  pool: pg.Pool,
  target: TargetConfig,
  index: DroppedIndex,
  actor: Actor,
  build: (schema: string, name: string, kind: IndexFinding["kind"]) => string = dropChangeSet,
): Promise<DraftResult> {
  const report = await reportForTarget(target);
  const finding = [...report.unused, ...report.duplicate, ...report.invalid].find(
    (f) => f.schema === index.schema && f.index === index.name,
  );
  if (!finding) {
    const verdict = report.usage.find((u) => u.schema === index.schema && u.index === index.name);
    return verdict ? { outcome: "kept", verdict } : { outcome: "no-finding" };
  }
  const name = draftName(index, new Date());
  const sql = build(finding.schema, finding.index, finding.kind);
  await checkDropDraft(name, sql, index, target.environment);
  try {
    return { outcome: "created", changeSet: (await createChangeSet(pool, { name, sql }, actor)).changeSet };
  } catch (err) {
    if (err instanceof ChangeSetExistsError) return { outcome: "exists" };
    throw err;
  }
}
