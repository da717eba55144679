import { describe, expect, it } from "vitest";
import { maintenanceWindow } from "./windows";

const weekend = {
  maintenanceWindows: [{ days: ["sat" as const, "sun" as const], start: "02:00", end: "05:00", timeZone: "Europe/Berlin" }],
  freezes: [],
};

describe("maintenance windows", () => {
  it("is open inside the window in the target's time zone", () => {
    // Saturday 2026-11-28 01:30 UTC = 02:30 in Berlin (CET, UTC+1)
    expect(maintenanceWindow(weekend, new Date("2026-11-28T01:30:00Z")).open).toBe(true);
  });
  it("is closed outside it, saying which window applies", () => {
    const v = maintenanceWindow(weekend, new Date("2026-11-28T04:30:00Z"));
    expect(v).toEqual({ open: false, reason: "outside the maintenance window (sat,sun 02:00-05:00 Europe/Berlin)" });
    expect(maintenanceWindow(weekend, new Date("2026-11-27T01:30:00Z")).open).toBe(false);
  });
  it("handles windows past midnight", () => {
    const night = { maintenanceWindows: [{ days: ["fri" as const], start: "22:00", end: "02:00", timeZone: "UTC" }], freezes: [] };
    expect(maintenanceWindow(night, new Date("2026-11-27T23:00:00Z")).open).toBe(true);
    expect(maintenanceWindow(night, new Date("2026-11-28T01:00:00Z")).open).toBe(true);
    expect(maintenanceWindow(night, new Date("2026-11-28T03:00:00Z")).open).toBe(false);
  });
  it("is closed during a freeze even inside a window", () => {
    const frozen = { ...weekend, freezes: [{ from: "2026-11-27T00:00:00Z", to: "2026-11-30T00:00:00Z", reason: "Black Friday" }] };
    expect(maintenanceWindow(frozen, new Date("2026-11-28T01:30:00Z"))).toEqual({
      open: false,
      reason: "change freeze until 2026-11-30T00:00:00Z: Black Friday",
    });
  });
});

describe("an all-day window", () => {
  it("is open at any minute of its days, midnight included", () => {
    const always = { maintenanceWindows: [{ days: ["sat" as const], start: "00:00", end: "00:00", timeZone: "UTC" }], freezes: [] };
    expect(maintenanceWindow(always, new Date("2026-11-28T00:00:00Z")).open).toBe(true);
    expect(maintenanceWindow(always, new Date("2026-11-28T23:59:30Z")).open).toBe(true);
    expect(maintenanceWindow(always, new Date("2026-11-29T00:00:00Z")).open).toBe(false);
  });
});
