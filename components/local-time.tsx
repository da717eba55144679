"use client";

import { useSyncExternalStore } from "react";
import { formatUtc } from "@/lib/text/format";

type Part = "second" | "minute" | "time" | "day";

// The viewer's zone (no timeZone given), written as the UTC renders are: 2026-11-28 18:04:35 GMT+1.
const fields = new Intl.DateTimeFormat("en-US", {
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
  timeZoneName: "short",
});

/** A moment in the viewer's zone, for client components that draw text themselves (chart axes). */
export function formatLocal(d: Date, part: Part): string {
  const f = Object.fromEntries(fields.formatToParts(d).map((p) => [p.type, p.value]));
  const date = `${f.year}-${f.month}-${f.day}`;
  if (part === "day") return date;
  if (part === "time") return `${f.hour}:${f.minute}:${f.second}`;
  const clock = part === "minute" ? `${f.hour}:${f.minute}` : `${f.hour}:${f.minute}:${f.second}`;
  return `${date} ${clock} ${f.timeZoneName}`;
}

/** The same parts as the server renders them before the viewer's zone is known. */
function utc(d: Date, part: Part): string {
  if (part === "day") return formatUtc(d).slice(0, 10);
  return `${formatUtc(d, part)} UTC`;
}

const never = () => () => undefined;

/**
 * A moment in the viewer's time zone, with UTC on hover. The server renders UTC (it does not know the
 * viewer's zone); the browser shows local time once hydrated, so the two renders never disagree.
 */
export function LocalTime({ at, part = "second" }: { at: Date | string; part?: Part }) {
  const inBrowser = useSyncExternalStore(
    never,
    () => true,
    () => false,
  );
  const date = new Date(at);
  return (
    <time dateTime={date.toISOString()} title={`${formatUtc(date)} UTC`}>
      {inBrowser ? formatLocal(date, part) : utc(date, part)}
    </time>
  );
}
