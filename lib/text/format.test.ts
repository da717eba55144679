import { describe, expect, it } from "vitest";
import { formatBytes, formatChange, formatDuration, formatMs, formatUtc, formatWhen } from "./format";

describe("formatUtc", () => {
  const d = new Date("2026-11-28T17:04:35.789Z");
  it("shows a moment in UTC to the second, the minute, or as a time of day", () => {
    expect(formatUtc(d)).toBe("2026-11-28 17:04:35");
    expect(formatUtc(d, "minute")).toBe("2026-11-28 17:04");
    expect(formatUtc(d, "time")).toBe("17:04:35");
  });

  it("says UTC in a report, and a dash for a moment that hasn't happened", () => {
    expect(formatWhen(d)).toBe("2026-11-28 17:04:35 UTC");
    expect(formatWhen(null)).toBe("—");
  });
});

describe("formatDuration", () => {
  it("reads as milliseconds, seconds, minutes or hours, whichever a person would say", () => {
    expect(formatDuration(0.85)).toBe("850 ms");
    expect(formatDuration(12.34)).toBe("12.3 s");
    expect(formatDuration(245)).toBe("4 min 05 s");
    expect(formatDuration(59.96)).toBe("1 min 00 s");
    expect(formatDuration(7380)).toBe("2 h 03 min");
  });
});

describe("formatBytes", () => {
  it("scales to the largest unit under 1024", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(5_734_400)).toBe("5.5 MB");
  });
});

describe("formatChange", () => {
  it("signs a change and leaves a missing one missing", () => {
    expect(formatChange(-42.06)).toBe("-42.1%");
    expect(formatChange(3)).toBe("+3.0%");
    expect(formatChange(null)).toBeNull();
  });
});

describe("formatMs", () => {
  it("says 'not measured' for a missing latency, never 0", () => {
    expect(formatMs(3.456)).toBe("3.46 ms");
    expect(formatMs(0)).toBe("0.00 ms");
    expect(formatMs(null)).toBe("not measured");
    expect(formatMs(undefined)).toBe("not measured");
  });
});
