"use client";

import { useSyncExternalStore } from "react";
import { formatUtc } from "@/lib/text/format";

const local = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hour12: false,
  timeZoneName: "short",
});
const localTimeOfDay = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });

const never = () => () => undefined;

/**
 * A moment in the viewer's time zone, with UTC on hover. The server renders UTC (it does not know the
 * viewer's zone); the browser shows local time once hydrated, so the two renders never disagree.
 */
export function LocalTime({ at, part = "second" }: { at: Date | string; part?: "second" | "time" }) {
  const inBrowser = useSyncExternalStore(
    never,
    () => true,
    () => false,
  );
  const date = new Date(at);
  const utc = `${formatUtc(date)} UTC`;
  const shown = inBrowser
    ? (part === "time" ? localTimeOfDay : local).format(date)
    : part === "time"
      ? `${formatUtc(date, "time")} UTC`
      : utc;
  return (
    <time dateTime={date.toISOString()} title={utc}>
      {shown}
    </time>
  );
}
