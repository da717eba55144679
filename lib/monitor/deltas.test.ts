import { describe, expect, it } from "vitest";
import { counterDelta } from "./deltas";

const start = new Date("2026-11-28T00:00:00Z");
const row = (scans: number, extra: Partial<{ statsReset: Date | null; postmasterStart: Date }> = {}) => ({
  indexKey: "public.i",
  scans,
  tuplesRead: scans * 2,
  tuplesFetched: scans,
  blksRead: 0,
  blksHit: scans,
  valid: true,
  statsReset: null,
  postmasterStart: start,
  ...extra,
});

describe("counter deltas", () => {
  it("is the difference between snapshots in the same epoch", () => {
    expect(counterDelta(row(10), row(25))).toMatchObject({ scans: 15, tuplesRead: 30, reset: false });
  });
  it("counts nothing for the very first snapshot (no baseline yet)", () => {
    expect(counterDelta(null, row(1000))).toMatchObject({ scans: 0, reset: false });
  });
  it("after pg_stat_reset counts what happened since, once, and marks the reset", () => {
    expect(counterDelta(row(1000), row(7, { statsReset: new Date("2026-11-28T01:00:00Z") }))).toMatchObject({ scans: 7, reset: true });
  });
  it("after a restart or failover (new postmaster start) does the same, even if counters grew past the old values", () => {
    expect(counterDelta(row(10), row(50, { postmasterStart: new Date("2026-11-28T02:00:00Z") }))).toMatchObject({ scans: 50, reset: true });
  });
  it("never goes negative when a counter drops without a visible reset", () => {
    const d = counterDelta(row(100), row(40));
    expect(d).toMatchObject({ scans: 40, reset: true });
    expect(
      Object.values(d)
        .filter((v) => typeof v === "number")
        .every((v) => (v as number) >= 0),
    ).toBe(true);
  });
});
