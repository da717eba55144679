import { formatChange, formatMs } from "@/lib/text/format";
import { latencyBars, sampleNote, type LatencyComparison } from "@/lib/monitor/latency";
import { LatencyChart } from "./latency-chart";

/** The seed's p95 before/after, measured: the chart, and the table under it as its text alternative. */
export function LatencyTable({ rows }: { rows: LatencyComparison[] }) {
  const pgss = rows.some((r) => r.before?.pgssMeanMs != null || r.after?.pgssMeanMs != null);
  return (
    <div className="card">
      <h2>p95 before / after (measured)</h2>
      <LatencyChart rows={latencyBars(rows)} />
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
              <td>{formatMs(r.before?.p95Ms)}</td>
              <td>{formatMs(r.after?.p95Ms)}</td>
              <td className={r.changePercent === null ? "" : r.changePercent < 0 ? "ok" : "bad"}>
                {formatChange(r.changePercent) ?? "not measured"}
              </td>
              <td>
                {sampleNote(r.before)} / {sampleNote(r.after)}
                {r.before?.errors || r.after?.errors ? ` (errors: ${r.before?.errors ?? 0} / ${r.after?.errors ?? 0})` : ""}
              </td>
              {pgss && (
                <td>
                  {formatMs(r.before?.pgssMeanMs)} ({r.before?.pgssCalls ?? 0} calls) / {formatMs(r.after?.pgssMeanMs)} (
                  {r.after?.pgssCalls ?? 0} calls)
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
