import { summarize, type FileReport, type Finding, type LintSummary } from "./lint";

export type LintFormat = "text" | "json" | "github";

// Each format is a sequence of pieces of text, so the CLI can write a report with tens of
// thousands of findings as it goes instead of building it as one string first.

/** Reads like a compiler: `file:line:col severity rule message`, the help indented below, then the summary. */
const textFinding = (f: Finding) => `${f.file}:${f.line}:${f.column} ${f.severity} ${f.rule} ${f.message}\n    help: ${f.help}\n`;

function* textEnd(s: LintSummary, names: string[]): Generator<string> {
  yield `\n${s.files} file(s), ${s.statements} statement(s), ${s.indexes} index(es)${names.length ? `: ${names.join(", ")}` : ""}\n`;
  yield `${s.errors} error(s), ${s.warnings} warning(s)\n`;
}

/** GitHub workflow commands, one annotation per finding (newlines and % escaped as GitHub requires). */
const esc = (s: string) => s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
const prop = (s: string) => esc(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
const githubFinding = (f: Finding) =>
  `::${f.severity === "error" ? "error" : "warning"} file=${prop(f.file)},line=${f.line},col=${f.column},title=${prop(f.rule)}::${esc(`${f.message}. ${f.help}`)}\n`;

function* githubEnd(s: LintSummary): Generator<string> {
  yield `indexdeck lint: ${s.statements} statement(s), ${s.indexes} index(es), ${s.errors} error(s), ${s.warnings} warning(s)\n`;
}

/**
 * The formats that can be written while files are still being linted, a finding at a time, the
 * summary last (JSON's summary comes first, so JSON is written once every file is linted).
 */
export const STREAMED_FORMATS = {
  text: { finding: textFinding, end: textEnd },
  github: { finding: githubFinding, end: githubEnd },
} satisfies Record<string, { finding(f: Finding): string; end(s: LintSummary, names: string[]): Iterable<string> }>;

function* streamedPieces(reports: FileReport[], format: keyof typeof STREAMED_FORMATS): Generator<string> {
  const { finding, end } = STREAMED_FORMATS[format];
  for (const r of reports) for (const f of r.findings) yield finding(f);
  yield* end(
    summarize(reports),
    reports.flatMap((r) => r.indexes),
  );
}

/** The JSON contract, byte for byte what `JSON.stringify(report, null, 2)` gives, written a finding at a time. */
export function* jsonPieces(reports: FileReport[]): Generator<string> {
  const { files, statements, indexes, errors, warnings } = summarize(reports);
  const indent = (json: string, by: string) => json.replace(/\n/g, `\n${by}`);
  yield `{\n  "summary": ${indent(JSON.stringify({ files, statements, indexes, errors, warnings }, null, 2), "  ")},\n  "findings": [`;
  let first = true;
  for (const r of reports) {
    for (const { file, line, column, rule, severity, message } of r.findings) {
      yield `${first ? "" : ","}\n    ${indent(JSON.stringify({ file, line, column, rule, severity, message }, null, 2), "    ")}`;
      first = false;
    }
  }
  yield first ? "]\n}\n" : "\n  ]\n}\n";
}

export function reportPieces(reports: FileReport[], format: LintFormat): Generator<string> {
  return format === "json" ? jsonPieces(reports) : streamedPieces(reports, format);
}

export function formatReports(reports: FileReport[], format: LintFormat): string {
  return [...reportPieces(reports, format)].join("");
}

export const formatText = (reports: FileReport[]) => formatReports(reports, "text");
export const formatJson = (reports: FileReport[]) => formatReports(reports, "json");
export const formatGithub = (reports: FileReport[]) => formatReports(reports, "github");
