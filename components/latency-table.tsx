import { sampleNote, type LatencyComparison } from "@/lib/monitor/latency";

const ms = (v: number | null | undefined) => (v === null || v === undefined ? "not measured" : `${v.toFixed(2)} ms`);

/** The seed's p95 before/after table, with measurements instead of expectations. */
export function LatencyTable({ rows }: { rows: LatencyComparison[] }) {
  const pgss = rows.some((r) => r.before?.pgssMeanMs != null || r.after?.pgssMeanMs != null);
  return (
    <div className="card">
      <h2 style={{ fontSize: 16, marginTop: 0 }}>p95 before / after (measured)</h2>
      <table data-testid="latency">
        <thead>
          <tr>
            <th>Query pattern</th>
            <th>p95 before</th>
            <th>p95 after</th>
            <th>Change</th>
            <th>Samples (before / after)</th>
            {pgss && <th>pg_stat_statements mean, all callers (before / after)</th>}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.workload} data-workload={r.workload}>
              <td>{r.workload}</td>
              <td>{ms(r.before?.p95Ms)}</td>
              <td>{ms(r.after?.p95Ms)}</td>
              <td className={r.changePercent === null ? "" : r.changePercent < 0 ? "ok" : "bad"}>
                {r.changePercent === null ? "—" : `${r.changePercent > 0 ? "+" : ""}${r.changePercent.toFixed(1)}%`}
              </td>
              <td>
                {sampleNote(r.before)} / {sampleNote(r.after)}
                {r.before?.errors || r.after?.errors ? ` (errors: ${r.before?.errors ?? 0} / ${r.after?.errors ?? 0})` : ""}
              </td>
              {pgss && (
                <td>
                  {ms(r.before?.pgssMeanMs)} ({r.before?.pgssCalls ?? 0} calls) / {ms(r.after?.pgssMeanMs)} ({r.after?.pgssCalls ?? 0}{" "}
                  calls)
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
