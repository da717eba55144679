import { formatDuration } from "@/lib/text/format";
import { describeSegment, type TaskTimeline, type TimelineSegment } from "@/lib/rollout/timeline";

const LABEL_WIDTH = 230;
const PLOT_WIDTH = 650;
const ROW = 24;
const AXIS = 22;

const segmentClass = (s: TimelineSegment) => `seg seg-${s.wait ?? "work"}`;
/** Round tick steps for the time axis, in seconds. */
const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];

/**
 * Each statement's phases over time (PostgreSQL's phase names), waits hatched so they read as waits in
 * colour and in black and white; the table under it says the same in words. Renders on the server (the
 * report) and in the live page alike: it draws what it is given, up to `now` for phases still going on.
 */
export function BuildTimeline({
  tasks,
  timeline,
  now,
}: {
  tasks: Array<{ seq: number; label: string; status: string }>;
  timeline: TaskTimeline[];
  now: number;
}) {
  const bySeq = new Map(timeline.map((t) => [t.seq, t.segments]));
  const all = timeline.flatMap((t) => t.segments);
  const t0 = Math.min(...all.map((s) => s.from));
  const t1 = Math.max(...all.map((s) => s.to ?? now), t0 + 1000);
  const x = (t: number) => LABEL_WIDTH + ((t - t0) / (t1 - t0)) * PLOT_WIDTH;
  const spanSeconds = (t1 - t0) / 1000;
  const step = STEPS.find((s) => spanSeconds / s <= 8) ?? STEPS[STEPS.length - 1];
  const ticks = all.length ? Array.from({ length: Math.floor(spanSeconds / step) + 1 }, (_, i) => i * step) : [];
  const height = AXIS + tasks.length * ROW + 4;
  return (
    <div className="timeline" data-testid="timeline">
      {all.length > 0 && (
        <svg
          viewBox={`0 0 ${LABEL_WIDTH + PLOT_WIDTH + 10} ${height}`}
          role="img"
          aria-label="Build timeline: each statement's phases over time"
        >
          <defs>
            <pattern id="hatch-transactions" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
              <rect width="6" height="6" className="hatch-bg" />
              <line x1="0" y1="0" x2="0" y2="6" className="hatch-transactions" strokeWidth="3" />
            </pattern>
            <pattern id="hatch-lock" width="6" height="6" patternUnits="userSpaceOnUse">
              <rect width="6" height="6" className="hatch-bg" />
              <path d="M0 0L6 6M6 0L0 6" className="hatch-lock" strokeWidth="1.5" />
            </pattern>
          </defs>
          {ticks.map((s) => (
            <g key={s} className="tick">
              <line x1={x(t0 + s * 1000)} x2={x(t0 + s * 1000)} y1={AXIS - 4} y2={height} />
              <text x={x(t0 + s * 1000)} y={AXIS - 8} textAnchor="middle">
                {formatDuration(s)}
              </text>
            </g>
          ))}
          {tasks.map((t, row) => (
            <g key={t.seq} data-task={t.seq} transform={`translate(0 ${AXIS + row * ROW})`}>
              <text x={LABEL_WIDTH - 8} y={ROW / 2 + 4} textAnchor="end" className="label">
                {t.label.length > 32 ? `${t.label.slice(0, 31)}…` : t.label}
              </text>
              {(bySeq.get(t.seq) ?? []).map((s, i) => (
                <rect
                  key={i}
                  className={segmentClass(s)}
                  data-phase={s.phase}
                  data-wait={s.wait ?? undefined}
                  x={x(s.from)}
                  y={4}
                  width={Math.max(1.5, x(s.to ?? now) - x(s.from))}
                  height={ROW - 8}
                  fill={s.wait ? `url(#hatch-${s.wait})` : undefined}
                >
                  <title>{describeSegment(s, now)}</title>
                </rect>
              ))}
            </g>
          ))}
        </svg>
      )}
      <p className="legend">
        <span className="key seg-work" /> working · <span className="key seg-transactions" /> waiting for other transactions (writers, old
        snapshots, readers) · <span className="key seg-lock" /> waiting for a lock
      </p>
      <table data-testid="timeline-table">
        <thead>
          <tr>
            <th>#</th>
            <th>Statement</th>
            <th>Phases, in order</th>
          </tr>
        </thead>
        <tbody>
          {tasks.map((t) => {
            const segments = bySeq.get(t.seq) ?? [];
            return (
              <tr key={t.seq} data-task={t.seq}>
                <td>{t.seq + 1}</td>
                <td>
                  <code>{t.label}</code>
                </td>
                <td>
                  {segments.length ? (
                    <ol className="phases">
                      {segments.map((s, i) => (
                        <li key={i} className={s.wait ? "warn" : undefined}>
                          {describeSegment(s, now)}
                        </li>
                      ))}
                    </ol>
                  ) : (
                    <span className="who">no build phases recorded ({t.status.replace(/_/g, " ")})</span>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
