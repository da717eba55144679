"use client";

import {
  Bar,
  BarChart,
  CartesianGrid,
  LabelList,
  Legend,
  Tooltip,
  usePlotArea,
  useYAxisScale,
  XAxis,
  YAxis,
  type TooltipContentProps,
} from "recharts";
import type { NameType, ValueType } from "recharts/types/component/DefaultTooltipContent";
import { formatMs } from "@/lib/text/format";
import type { LatencyBar } from "@/lib/monitor/latency";

const SERIES = [
  { key: "before", name: "p95 before", fill: "url(#p95-before)" },
  { key: "after", name: "p95 after", fill: "var(--chart-after)" },
] as const;

function Explanation({ active, payload }: TooltipContentProps<ValueType, NameType>) {
  const row = active ? (payload?.[0]?.payload as LatencyBar | undefined) : undefined;
  if (!row) return null;
  return (
    <div className="chart-tooltip">
      <strong>{row.workload}</strong>
      <br />
      before: {formatMs(row.before)} ({row.beforeSamples} samples)
      <br />
      after: {formatMs(row.after)} ({row.afterSamples} samples)
      <br />
      change: {row.change ?? "not measured"}
    </div>
  );
}

/** A bar that carries what it stands for, so a test (or a person with devtools) can check it against the store. */
function MeasuredBar(series: "before" | "after") {
  function Shape(props: { x?: number; y?: number; width?: number; height?: number; fill?: string; payload?: LatencyBar }) {
    const { x = 0, y = 0, width = 0, height = 0, fill, payload } = props;
    return (
      <rect
        x={x}
        y={y}
        width={width}
        height={height}
        fill={fill}
        className="p95-bar"
        data-series={series}
        data-workload={payload?.workload}
        data-p95={payload?.[series] ?? undefined}
      />
    );
  }
  return Shape;
}

/**
 * Where a side wasn't measured, say so at its bar's place: never a zero-length bar that reads as 0 ms.
 * (Recharts draws no bar and no label for a null value, so this places the words on the category's band.)
 */
function NotMeasured({ rows }: { rows: LatencyBar[] }) {
  const y = useYAxisScale();
  const plot = usePlotArea();
  if (!y || !plot) return null;
  return (
    <g>
      {rows.flatMap((row) =>
        SERIES.map((s, i) => {
          if (row[s.key] !== null) return null;
          const [top, bottom] = [y(row.workload, { position: "start" }), y(row.workload, { position: "end" })];
          if (top === undefined || bottom === undefined) return null;
          return (
            <text
              key={`${row.workload}-${s.key}`}
              x={plot.x + 6}
              y={top + (bottom - top) * (i === 0 ? 0.35 : 0.72)}
              className="not-measured"
              data-testid="not-measured"
              data-series={s.key}
              data-workload={row.workload}
            >
              {s.name}: not measured
            </text>
          );
        }),
      )}
    </g>
  );
}

/** The change in % at the end of the "after" bar. */
function Change(rows: LatencyBar[]) {
  function Label(props: { x?: number | string; y?: number | string; width?: number | string; height?: number | string; index?: number }) {
    const row = rows[props.index ?? -1];
    if (!row?.change || row.after === null) return null;
    return (
      <text x={Number(props.x) + Number(props.width) + 6} y={Number(props.y) + Number(props.height) / 2 + 4} className="change-label">
        {row.change}
      </text>
    );
  }
  return Label;
}

/**
 * p95 before and after per query pattern, side by side, with the change in %; sample counts in the
 * tooltip. Drawn at a fixed size so it prints as the same SVG; before is hatched and after solid, so
 * they stay apart in black and white. The table beside it is its text alternative.
 */
export function LatencyChart({ rows, width = 760 }: { rows: LatencyBar[]; width?: number }) {
  const height = 70 + rows.length * 56;
  return (
    <figure className="chart" data-testid="latency-chart">
      <BarChart width={width} height={height} data={rows} layout="vertical" margin={{ top: 8, right: 70, bottom: 8, left: 8 }} barGap={2}>
        <defs>
          <pattern id="p95-before" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
            <rect width="6" height="6" className="hatch-bg" />
            <line x1="0" y1="0" x2="0" y2="6" className="hatch-before" strokeWidth="3" />
          </pattern>
        </defs>
        <CartesianGrid strokeDasharray="3 3" horizontal={false} />
        <XAxis type="number" unit=" ms" />
        <YAxis type="category" dataKey="workload" width={180} />
        <Tooltip content={Explanation} />
        <Legend />
        {SERIES.map((s) => (
          <Bar
            key={s.key}
            dataKey={s.key}
            name={s.name}
            fill={s.fill}
            stroke="var(--fg)"
            strokeWidth={1}
            isAnimationActive={false}
            shape={MeasuredBar(s.key)}
          >
            {s.key === "after" && <LabelList dataKey="after" content={Change(rows)} />}
          </Bar>
        ))}
        <NotMeasured rows={rows} />
      </BarChart>
      <figcaption className="who">p95 per query pattern, before and after the build; the table below gives the same figures.</figcaption>
    </figure>
  );
}
