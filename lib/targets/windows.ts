import type { TargetConfig } from "./config";

const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;

function localParts(now: Date, timeZone: string): { day: string; minutes: number } {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(now);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "";
  return { day: get("weekday").slice(0, 3).toLowerCase(), minutes: Number(get("hour")) * 60 + Number(get("minute")) };
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** A weekly window as people write it: `mon,tue 02:00-04:00 Europe/Berlin`. */
export function describeWindow(w: TargetConfig["maintenanceWindows"][number]): string {
  return `${w.days.join(",")} ${w.start}-${w.end} ${w.timeZone}`;
}

export type WindowVerdict = { open: true; window: string } | { open: false; reason: string };

/**
 * Whether a change may run now: inside one of the target's weekly windows (in its time zone; a
 * window whose end is before its start runs past midnight; start = end is the whole day) and outside
 * every freeze.
 */
export function maintenanceWindow(target: Pick<TargetConfig, "maintenanceWindows" | "freezes">, now = new Date()): WindowVerdict {
  const freeze = target.freezes.find((f) => new Date(f.from) <= now && now < new Date(f.to));
  if (freeze) return { open: false, reason: `change freeze until ${freeze.to}: ${freeze.reason}` };
  if (target.maintenanceWindows.length === 0) return { open: false, reason: "the target has no maintenance window configured" };
  for (const w of target.maintenanceWindows) {
    const { day, minutes } = localParts(now, w.timeZone);
    const start = toMinutes(w.start);
    const end = toMinutes(w.end);
    const yesterday = WEEKDAYS[(WEEKDAYS.indexOf(day as (typeof WEEKDAYS)[number]) + 6) % 7];
    // start = end means the whole day
    const inside =
      start === end
        ? w.days.includes(day as never)
        : start < end
          ? w.days.includes(day as never) && minutes >= start && minutes < end
          : (w.days.includes(day as never) && minutes >= start) || (w.days.includes(yesterday as never) && minutes < end);
    if (inside) return { open: true, window: describeWindow(w) };
  }
  const list = target.maintenanceWindows.map(describeWindow).join("; ");
  return { open: false, reason: `outside the maintenance window (${list})` };
}
