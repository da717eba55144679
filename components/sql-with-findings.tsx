import type { Finding } from "@/lib/changeset/lint";

/** The change set's SQL with line numbers, each finding shown under the line it points at. */
export function SqlWithFindings({ sql, findings }: { sql: string; findings: Finding[] }) {
  const byLine = new Map<number, Finding[]>();
  for (const f of findings) byLine.set(f.line, [...(byLine.get(f.line) ?? []), f]);
  return (
    <pre className="sql">
      {sql.split("\n").map((text, i) => {
        const here = byLine.get(i + 1) ?? [];
        const cls = here.some((f) => f.severity === "error") ? "has-error" : here.length ? "has-warning" : "";
        return (
          <span key={i} className={`line ${cls}`}>
            <span className="ln">{i + 1}</span>
            {text}
            {here.map((f, j) => (
              <span key={j} className={`finding ${f.severity === "error" ? "bad" : "warn"}`} data-rule={f.rule}>
                {f.severity} {f.rule} (col {f.column}): {f.message}
              </span>
            ))}
          </span>
        );
      })}
    </pre>
  );
}

/** Line counts above which SQL starts folded: the page stays readable, the SQL one click away. */
const FOLD_OVER_LINES = 20;

/** SQL with line numbers, collapsible; starts open when short, when it has findings, or when asked (the printed report). */
export function SqlBlock({ sql, findings = [], open }: { sql: string; findings?: Finding[]; open?: boolean }) {
  const lines = sql.split("\n").length;
  return (
    <details className="sql-block" open={open ?? (lines <= FOLD_OVER_LINES || findings.length > 0)}>
      <summary>
        SQL, {lines} line{lines === 1 ? "" : "s"}
      </summary>
      <SqlWithFindings sql={sql} findings={findings} />
    </details>
  );
}
