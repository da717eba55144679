"use client";

import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { CartesianGrid, Legend, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

import { formatUtc } from "@/lib/text/format";
import type { RolloutMarker, UsageSeries } from "@/lib/monitor/usage";
import { formatLocal, LocalTime } from "./local-time";

interface Usage {
  series: UsageSeries;
  markers: RolloutMarker[];
}

const NODE_COLOURS = ["#8250df", "#bf3989", "#953800", "#0a7b83"];

// Axis ticks: month-day and time in the viewer's zone (the tooltip and the table say the zone and UTC).
const tick = (t: number) => formatLocal(new Date(t * 1000), "minute").slice(5, 16);
const rate = (v: number | null | undefined) => (v === null || v === undefined ? "no data" : v.toLocaleString("en"));
const hover = (t: number) => `${formatLocal(new Date(t * 1000), "minute")} (${formatUtc(new Date(t * 1000), "minute")} UTC)`;

/** Scans and tuples fetched per minute, live (refetched every 15 s), with rollout and counter-reset markers. */
export function UsageChart({ target, index }: { target: string; index: string }) {
  const [range, setRange] = useState<"24h" | "7d" | "30d">("24h");
  const { data, error } = useQuery<Usage>({
    queryKey: ["usage", target, index, range],
    queryFn: async () => {
      const res = await fetch(`/api/usage?target=${encodeURIComponent(target)}&index=${encodeURIComponent(index)}&range=${range}`);
      if (!res.ok) throw new Error(`usage: ${res.status}`);
      return res.json();
    },
    refetchInterval: 15_000,
  });
  const points = useMemo(
    () =>
      data
        ? data.series.t.map((t, i) => ({
            t,
            scansPerMinute: data.series.scansPerMinute[i],
            tuplesFetchedPerMinute: data.series.tuplesFetchedPerMinute[i],
            ...Object.fromEntries(data.series.nodes.map((n) => [`node:${n.node}`, n.scansPerMinute[i]])),
          }))
        : [],
    [data],
  );
  const nodes = data?.series.nodes.map((n) => n.node) ?? [];
  // A marker sits on the bucket it fell in: the last bucket that starts at or before it.
  const bucket = (t: number) => data?.series.t.reduce((best, b) => (b <= t ? b : best), data.series.t[0] ?? t) ?? t;
  return (
    <div className="card" data-testid="usage-chart">
      <p className="phase-form">
        {(["24h", "7d", "30d"] as const).map((r) => (
          <button key={r} className={r === range ? undefined : "secondary"} onClick={() => setRange(r)}>
            {r}
          </button>
        ))}
        <span className="who">
          {data ? `${data.series.t.length} points, ${data.markers.length} rollout markers` : error ? String(error) : "loading…"}
        </span>
      </p>
      <div style={{ width: "100%", height: 320 }}>
        <ResponsiveContainer>
          <LineChart data={points}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="t" tickFormatter={tick} />
            <YAxis />
            <Tooltip labelFormatter={(t) => hover(Number(t))} />
            <Legend />
            <Line
              type="monotone"
              dataKey="scansPerMinute"
              name={nodes.length > 1 ? "scans / min, all nodes" : "scans / min"}
              stroke="#0b5cad"
              dot={false}
              isAnimationActive={false}
            />
            {/* One line per node once a target has replicas: an index may serve only the replicas' reads. */}
            {nodes.length > 1 &&
              nodes.map((node, i) => (
                <Line
                  key={node}
                  type="monotone"
                  dataKey={`node:${node}`}
                  name={`scans / min on ${node}`}
                  stroke={NODE_COLOURS[i % NODE_COLOURS.length]}
                  strokeDasharray="5 3"
                  dot={false}
                  connectNulls={false}
                  isAnimationActive={false}
                />
              ))}
            <Line
              type="monotone"
              dataKey="tuplesFetchedPerMinute"
              name="tuples fetched / min"
              stroke="#1a7f37"
              dot={false}
              isAnimationActive={false}
            />
            {data?.markers.map((m) => (
              <ReferenceLine
                key={`${m.rolloutId}-${m.kind}-${m.t}`}
                x={bucket(m.t)}
                stroke="#9a6700"
                label={{ value: `#${m.rolloutId} ${m.kind}`, position: "top", fontSize: 11 }}
              />
            ))}
            {data?.series.gaps.map((t) => (
              <ReferenceLine
                key={`gap-${t}`}
                x={t}
                stroke="#5b6570"
                strokeDasharray="2 4"
                label={{ value: "collector gap", position: "insideTopLeft", fontSize: 11 }}
              />
            ))}
            {data?.series.resets.map(({ t, node }) => (
              <ReferenceLine
                key={`reset-${node}-${t}`}
                x={t}
                stroke="#cf222e"
                strokeDasharray="4 2"
                label={{ value: nodes.length > 1 ? `${node} counters reset` : "counters reset", position: "insideBottom", fontSize: 11 }}
              />
            ))}
          </LineChart>
        </ResponsiveContainer>
      </div>
      {/* The chart's text alternative: the same points and markers in words. */}
      <details data-testid="usage-table">
        <summary>The chart as a table</summary>
        <ul>
          {data?.markers.map((m) => (
            <li key={`${m.rolloutId}-${m.kind}-${m.t}`}>
              <LocalTime at={new Date(m.t * 1000)} />: rollout #{m.rolloutId} {m.kind}
            </li>
          ))}
          {data?.series.gaps.map((t) => (
            <li key={`gap-${t}`}>
              <LocalTime at={new Date(t * 1000)} />: collector gap
            </li>
          ))}
          {data?.series.resets.map(({ t, node }) => (
            <li key={`reset-${node}-${t}`}>
              <LocalTime at={new Date(t * 1000)} />: {node} counters reset
            </li>
          ))}
        </ul>
        <table>
          <thead>
            <tr>
              <th>From</th>
              <th>Scans / min</th>
              {nodes.length > 1 && nodes.map((n) => <th key={n}>Scans / min on {n}</th>)}
              <th>Tuples fetched / min</th>
            </tr>
          </thead>
          <tbody>
            {data?.series.t.map((t, i) => (
              <tr key={t}>
                <td>
                  <LocalTime at={new Date(t * 1000)} part="minute" />
                </td>
                <td>{rate(data.series.scansPerMinute[i])}</td>
                {nodes.length > 1 && data.series.nodes.map((n) => <td key={n.node}>{rate(n.scansPerMinute[i])}</td>)}
                <td>{rate(data.series.tuplesFetchedPerMinute[i])}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </div>
  );
}
