import { summarize, type FileReport } from "./lint";

export type LintFormat = "text" | "json" | "github";

/** Reads like a compiler: `file:line:col severity rule message`, the help indented below, then the summary. */
export function formatText(reports: FileReport[]): string {
  const out: string[] = [];
  for (const r of reports) {
    for (const f of r.findings) {
      out.push(`${f.file}:${f.line}:${f.column} ${f.severity} ${f.rule} ${f.message}`);
      out.push(`    help: ${f.help}`);
    }
  }
  const s = summarize(reports);
  const names = reports.flatMap((r) => r.indexes);
  out.push("");
  out.push(`${s.files} file(s), ${s.statements} statement(s), ${s.indexes} index(es)${names.length ? `: ${names.join(", ")}` : ""}`);
  out.push(`${s.errors} error(s), ${s.warnings} warning(s)`);
  return out.join("\n") + "\n";
}

export function formatJson(reports: FileReport[]): string {
  const findings = reports.flatMap((r) => r.findings.map(({ file, line, column, rule, severity, message }) => ({ file, line, column, rule, severity, message })));
  const { files, statements, indexes, errors, warnings } = summarize(reports);
  return JSON.stringify({ summary: { files, statements, indexes, errors, warnings }, findings }, null, 2) + "\n";
}

/** GitHub workflow commands, one annotation per finding (newlines and % escaped as GitHub requires). */
export function formatGithub(reports: FileReport[]): string {
  const esc = (s: string) => s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
  const prop = (s: string) => esc(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
  const lines = reports.flatMap((r) =>
    r.findings.map((f) => `::${f.severity === "error" ? "error" : "warning"} file=${prop(f.file)},line=${f.line},col=${f.column},title=${prop(f.rule)}::${esc(`${f.message}. ${f.help}`)}`),
  );
  const s = summarize(reports);
  lines.push(`indexdeck lint: ${s.statements} statement(s), ${s.indexes} index(es), ${s.errors} error(s), ${s.warnings} warning(s)`);
  return lines.join("\n") + "\n";
}

export function formatReports(reports: FileReport[], format: LintFormat): string {
  return format === "json" ? formatJson(reports) : format === "github" ? formatGithub(reports) : formatText(reports);
}
