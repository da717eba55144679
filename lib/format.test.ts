import { describe, expect, it } from "vitest";
import { formatUtc, formatWhen } from "./format";

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
