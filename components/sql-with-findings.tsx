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
              <span
                key={j}
                className={`finding ${f.severity === "error" ? "bad" : "warn"}`}
                data-rule={f.rule}
                style={{ display: "block" }}
              >
                {f.severity} {f.rule} (col {f.column}): {f.message}
              </span>
            ))}
          </span>
        );
      })}
    </pre>
  );
}
