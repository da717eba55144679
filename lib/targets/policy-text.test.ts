import { describe, expect, it } from "vitest";
import { formatFreezes, formatWindows, parseFreezes, parseWindows } from "./policy-text";

describe("policy text", () => {
  it("round-trips windows and freezes", () => {
    const windows = [{ days: ["mon", "tue"] as ("mon" | "tue")[], start: "02:00", end: "04:00", timeZone: "Europe/Berlin" }];
    const freezes = [{ from: "2026-12-20T00:00:00Z", to: "2027-01-04T00:00:00Z", reason: "year-end freeze" }];
    expect(parseWindows(formatWindows(windows))).toEqual({ ok: true, value: windows });
    expect(parseFreezes(formatFreezes(freezes))).toEqual({ ok: true, value: freezes });
  });

  it("defaults the time zone to UTC and skips blank lines", () => {
    expect(parseWindows("\n  SAT,sun 22:00-02:00  \n\n")).toEqual({
      ok: true,
      value: [{ days: ["sat", "sun"], start: "22:00", end: "02:00", timeZone: "UTC" }],
    });
  });

  it("names the field, line and problem of every bad line", () => {
    const r = parseWindows("mon 02:00-04:00\nmonday 02:00-04:00\ntue 25:00-04:00 Mars/Olympus\nwed 01:00-02:00 UTC trailing words");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual([
      expect.stringMatching(/^maintenance windows, line 2 \(days\.0\): /),
      expect.stringMatching(/^maintenance windows, line 3 \(start\): must be HH:MM/),
      expect.stringMatching(/^maintenance windows, line 3 \(timeZone\): must be an IANA time zone/),
      expect.stringMatching(/^maintenance windows, line 4: .*extra/),
    ]);
  });

  it("refuses a freeze without a reason, with a bad time or ending before it starts", () => {
    const r = parseFreezes(
      "2026-12-20T00:00:00Z 2027-01-04T00:00:00Z\n2026-12-20 2027-01-04T00:00:00Z x\n2027-01-04T00:00:00Z 2026-12-20T00:00:00Z backwards",
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual([
      expect.stringMatching(/^freezes, line 1 \(reason\)/),
      expect.stringMatching(/^freezes, line 2 \(from\)/),
      expect.stringMatching(/^freezes, line 3 \(to\): a freeze must end after it starts/),
    ]);
  });
});
