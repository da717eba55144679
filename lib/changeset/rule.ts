import { createdIndex, type CreatedIndex } from "./nodes";
import type { ParsedChangeSet, Statement } from "./parse";

export type Severity = "error" | "warning";

export interface LintOptions {
  /** statement-timeout-risk fires when a concurrent build runs under a statement_timeout below this. */
  statementTimeoutRiskMs: number;
  /**
   * timeout-too-short estimates a build as table bytes / rate × safety factor. The default rate,
   * 20 MB/s, is a third of what a 2-core test machine measured for a btree build on an idle disk
   * (see README): production builds share their disks with live traffic.
   */
  buildBytesPerSecond: number;
  buildSafetyFactor: number;
}

export const DEFAULT_LINT_OPTIONS: LintOptions = {
  statementTimeoutRiskMs: 10 * 60_000,
  buildBytesPerSecond: 20 * 1024 * 1024,
  buildSafetyFactor: 2,
};

export interface ExistingIndex {
  name: string;
  method: string;
  /** Key columns in order; null for an expression key. */
  columns: Array<string | null>;
  hasPredicate: boolean;
  valid: boolean;
}

export interface RelationInfo {
  schema: string;
  name: string;
  /** pg_class.relkind: r table, p partitioned table, m materialized view … */
  relkind: string;
  bytes: number;
  columns: ReadonlySet<string>;
  indexes: ExistingIndex[];
}

/** What the database-aware rules know about the target, read once per lint run. */
export interface SchemaInfo {
  /** Keyed by relationKey(schema, table) as written in the change set; null: does not exist. */
  relations: ReadonlyMap<string, RelationInfo | null>;
  /** Existing indexes by the names the change set creates, keyed by relationKey(schema, name). */
  indexesByName: ReadonlyMap<string, { valid: boolean; table: string } | null>;
}

export function relationKey(schema: string | null, name: string): string {
  return `${schema ?? ""}.${name}`;
}

export interface RuleContext extends ParsedChangeSet {
  settings: ReadonlyArray<ReadonlyMap<string, string>>;
  options: LintOptions;
  schema: SchemaInfo | null;
  knownRuleIds: ReadonlySet<string>;
}

export interface RuleFinding {
  stmt?: Statement;
  line?: number;
  column?: number;
  message: string;
}

export interface Rule<Id extends string = string> {
  id: Id;
  severity: Severity;
  description: string;
  help: string;
  /** Rules that read the target's catalog run only when a database is given. */
  needsDatabase?: boolean;
  check(ctx: RuleContext): RuleFinding[];
}

/** For database rules: the index a statement creates and its table as the target has it, if both exist. */
export function indexOnKnownTable(ctx: RuleContext, stmt: Statement): { idx: CreatedIndex; rel: RelationInfo } | null {
  const idx = createdIndex(stmt);
  const rel = idx && ctx.schema?.relations.get(relationKey(idx.schema, idx.table));
  return idx && rel ? { idx, rel } : null;
}

export function defineRule<const Id extends string>(rule: Rule<Id>): Rule<Id> {
  return rule;
}
