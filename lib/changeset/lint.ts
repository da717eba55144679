/**
 * changeset/ — a change set from text to judgement: parsed by libpg-query, linted on the parse
 * tree (one rule a file in rules/), stored with its query patterns (store.ts), formatted for output.
 */
import { createdIndex, isIndexStatement, readStatementFacts } from "./nodes";
import { parserReady, parseStatements, type ParseOptions, type Statement, type SyntaxProblem } from "./parse";
import { DEFAULT_LINT_OPTIONS, type LintOptions, type RuleContext, type SchemaInfo, type Severity } from "./rule";
import { RULE_IDS, RULES, type RuleId } from "./rules";
import { SettingsTracker } from "./settings";
import { Source, type SqlText } from "./source";
import { policyProblems } from "./statement-policy";

export interface Finding {
  file: string;
  line: number;
  column: number;
  rule: RuleId;
  severity: Severity;
  message: string;
  help: string;
}

export interface FileReport {
  file: string;
  statements: number;
  indexes: string[];
  findings: Finding[];
}

export interface LintInput {
  file: string;
  text: SqlText;
  schema?: SchemaInfo | null;
  options?: Partial<LintOptions>;
}

/**
 * Lints one change set: parse once, run every rule (database rules only with a schema), drop
 * findings suppressed by `-- indexdeck-ignore`, sort by position. Call after `await parserReady()`.
 */
export function lintChangeSet(input: LintInput): FileReport {
  const findings: Finding[] = [];
  const parts = lintParts(input);
  for (let part = parts.next(); ; part = parts.next()) {
    if (part.done) return { ...part.value, findings };
    for (const f of part.value) findings.push(f);
  }
}

/**
 * A long file is linted this many statements at a time: memory follows the part, not the file
 * (what rules need of earlier parts, such as the settings in force, is carried).
 */
const PART_STATEMENTS = 1000;

/**
 * Lints one change set a part at a time, yielding each part's findings in file order (sorted within
 * the part, and so overall); a caller may pause between parts (the CLI waits for its output to drain).
 * Returns the file's summary. Call after `await parserReady()`. `parse`: see parseStatements.
 */
export function* lintParts(
  input: LintInput,
  { partStatements = PART_STATEMENTS, ...parse }: ParseOptions & { partStatements?: number } = {},
): Generator<Finding[], Omit<FileReport, "findings">> {
  const options = { ...DEFAULT_LINT_OPTIONS, ...input.options };
  const schema = input.schema ?? null;
  const source = new Source(input.file, input.text);
  const tracker = new SettingsTracker();
  let indexStatementsBefore = 0;
  const state = new Map<string, unknown>();
  const carried = <T>(key: string, init: () => T): T => {
    if (!state.has(key)) state.set(key, init());
    return state.get(key) as T;
  };
  const indexes: string[] = [];
  let statements: Statement[] = [];
  let settings: Array<ReadonlyMap<string, string>> = [];
  let syntaxErrors: SyntaxProblem[] = [];
  let count = 0;
  const part = () => {
    const findings = partFindings({
      source,
      statements,
      syntaxErrors,
      settings,
      options,
      schema,
      knownRuleIds: RULE_IDS,
      indexStatementsBefore,
      carried,
    });
    indexStatementsBefore += statements.filter(isIndexStatement).length;
    [statements, settings, syntaxErrors] = [[], [], []];
    return findings;
  };
  const prepare = (stmt: Statement) => {
    readStatementFacts(stmt);
    policyProblems(stmt, options);
  };
  for (const item of parseStatements(source, prepare, parse)) {
    if ("syntaxError" in item) {
      syntaxErrors.push(item.syntaxError);
      continue;
    }
    const stmt = item.statement;
    settings.push(tracker.before(stmt));
    statements.push(stmt);
    count++;
    const name = createdIndex(stmt)?.name;
    if (name) indexes.push(name);
    if (statements.length >= partStatements) yield part();
  }
  if (statements.length || syntaxErrors.length) yield part();
  return { file: input.file, statements: count, indexes };
}

function partFindings(ctx: RuleContext): Finding[] {
  const findings: Finding[] = [];
  for (const rule of RULES) {
    if (rule.needsDatabase && !ctx.schema) continue;
    for (const f of rule.check(ctx)) {
      if (rule.suppressible !== false && f.stmt?.ignored.includes(rule.id)) continue;
      findings.push({
        file: ctx.source.file,
        line: f.line ?? f.stmt?.line ?? 1,
        column: f.column ?? f.stmt?.column ?? 1,
        rule: rule.id,
        severity: rule.severity,
        message: f.message,
        help: rule.help,
      });
    }
  }
  return findings.sort((a, b) => a.line - b.line || a.column - b.column || a.rule.localeCompare(b.rule));
}

export async function lintText(input: LintInput): Promise<FileReport> {
  await parserReady();
  return lintChangeSet(input);
}

export interface LintSummary {
  files: number;
  statements: number;
  indexes: number;
  errors: number;
  warnings: number;
}

export function summarize(reports: FileReport[]): LintSummary {
  const all = reports.flatMap((r) => r.findings);
  return {
    files: reports.length,
    statements: reports.reduce((n, r) => n + r.statements, 0),
    indexes: reports.reduce((n, r) => n + r.indexes.length, 0),
    errors: all.filter((f) => f.severity === "error").length,
    warnings: all.filter((f) => f.severity === "warning").length,
  };
}
