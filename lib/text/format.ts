export function formatBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/**
 * A moment as the pages show it, in UTC (the caller says "UTC" beside it): `2026-11-28 17:04:35`, or
 * to the minute, or the time of day alone.
 */
export function formatUtc(d: Date, part: "second" | "minute" | "time" = "second"): string {
  const iso = d.toISOString();
  if (part === "time") return iso.slice(11, 19);
  return iso.replace("T", " ").slice(0, part === "minute" ? 16 : 19);
}

/** A moment in a report: to the second with "UTC", or a dash for one that hasn't happened. */
export function formatWhen(d: Date | null | undefined): string {
  return d ? `${formatUtc(d)} UTC` : "—";
}

/** A duration as a person reads it: `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 03 min`. */
export function formatDuration(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 59.95) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  const two = (n: number) => String(n).padStart(2, "0");
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${two(whole % 60)} s`;
  return `${Math.floor(whole / 3600)} h ${two(Math.floor((whole % 3600) / 60))} min`;
}

/** A measured latency (p95 and the like) in milliseconds, or "not measured": never a 0 that was not seen. */
export function formatMs(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? "not measured" : `${ms.toFixed(2)} ms`;
}

/** A relative change as the p95 table and chart say it: `-42.1%`, `+3.0%`, or null when one side is missing. */
export function formatChange(percent: number | null): string | null {
  return percent === null ? null : `${percent > 0 ? "+" : ""}${percent.toFixed(1)}%`;
}
