import { createdIndex, readStatementFacts } from "./nodes";
import { parseChangeSet, parserReady } from "./parse";
import { DEFAULT_LINT_OPTIONS, type LintOptions, type SchemaInfo, type Severity } from "./rule";
import { RULE_IDS, RULES, type RuleId } from "./rules";
import { settingsBefore } from "./settings";
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
  text: string;
  schema?: SchemaInfo | null;
  options?: Partial<LintOptions>;
}

/**
 * Lints one change set: parse once, run every rule (database rules only with a schema), drop
 * findings suppressed by `-- indexdeck-ignore`, sort by position. Call after `await parserReady()`.
 */
export function lintChangeSet(input: LintInput): FileReport {
  const options = { ...DEFAULT_LINT_OPTIONS, ...input.options };
  const parsed = parseChangeSet(input.file, input.text, (stmt) => {
    readStatementFacts(stmt);
    policyProblems(stmt, options);
  });
  const ctx = {
    ...parsed,
    settings: settingsBefore(parsed.statements),
    options,
    schema: input.schema ?? null,
    knownRuleIds: RULE_IDS,
  };
  const findings: Finding[] = [];
  for (const rule of RULES) {
    if (rule.needsDatabase && !ctx.schema) continue;
    for (const f of rule.check(ctx)) {
      if (rule.suppressible !== false && f.stmt?.ignored.includes(rule.id)) continue;
      findings.push({
        file: input.file,
        line: f.line ?? f.stmt?.line ?? 1,
        column: f.column ?? f.stmt?.column ?? 1,
        rule: rule.id,
        severity: rule.severity,
        message: f.message,
        help: rule.help,
      });
    }
  }
  findings.sort((a, b) => a.line - b.line || a.column - b.column || a.rule.localeCompare(b.rule));
  const indexes = parsed.statements.map((s) => createdIndex(s)?.name).filter((n): n is string => !!n);
  return { file: input.file, statements: parsed.statements.length, indexes, findings };
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
