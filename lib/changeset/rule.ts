import { createdIndex, type CreatedIndex } from "./nodes";
import type { ParsedChangeSet, Statement } from "./parse";
import { DEFAULT_SESSION_LIMITS, type SessionLimits } from "./settings";
import { policyProblems, type PolicyRule } from "./statement-policy";

export type Severity = "error" | "warning";

/** The statement policy's session bounds are lint options too, so the linter and the plan judge alike. */
export interface LintOptions extends SessionLimits {
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
  ...DEFAULT_SESSION_LIMITS,
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

/**
 * What a rule sees: a part of a change set (a long file is linted a part at a time), the settings in
 * force before each of its statements, and what the parts before it left.
 */
export interface RuleContext extends ParsedChangeSet {
  settings: ReadonlyArray<ReadonlyMap<string, string>>;
  /** How many index statements the parts before this one had. */
  indexStatementsBefore: number;
  /** State a rule keeps from one part of the file to the next, under a key of its own. */
  carried<T>(key: string, init: () => T): T;
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
  /** The statement policy's rules: the plan refuses what they find, so an ignore comment can't hide it. */
  suppressible?: false;
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

/**
 * A lint rule that reports one rule of the statement policy (lib/changeset/statement-policy.ts): the
 * plan refuses exactly what it finds, so the linter and apply never disagree.
 */
export function policyRule<const Id extends PolicyRule>(rule: Omit<Rule<Id>, "check" | "severity" | "suppressible">): Rule<Id> {
  return {
    ...rule,
    severity: "error",
    suppressible: false,
    check: (ctx) => policyFindings(ctx).get(rule.id) ?? [],
  };
}

/**
 * The part the policy rules last looked at. Only the last: a WeakMap keyed by part would hold every
 * part's statements until a full collection, which comes rarely, and a long file's RSS grew by that.
 */
let lastPart: { ctx: RuleContext; found: Map<PolicyRule, RuleFinding[]> } | null = null;

/**
 * A part's policy problems by rule, in statement order, found in one pass that every policy rule
 * shares, instead of ten passes each looking up every statement's verdict and building two arrays.
 */
function policyFindings(ctx: RuleContext): Map<PolicyRule, RuleFinding[]> {
  if (lastPart?.ctx !== ctx) {
    const found = new Map<PolicyRule, RuleFinding[]>();
    for (const stmt of ctx.statements) {
      for (const p of policyProblems(stmt, ctx.options)) {
        let list = found.get(p.rule);
        if (!list) found.set(p.rule, (list = []));
        list.push({ stmt, message: p.message });
      }
    }
    lastPart = { ctx, found };
  }
  return lastPart.found;
}
