import { describe, expect, it } from "vitest";
import { StreamLimit } from "./stream-limit";

describe("live streams per user", () => {
  it("refuses the eleventh of one user, not another user's first, and frees a slot when one closes (once)", () => {
    const limit = new StreamLimit(10);
    const releases = Array.from({ length: 10 }, () => limit.acquire(1));
    expect(releases.every((r) => typeof r === "function")).toBe(true);
    expect(limit.acquire(1)).toBeNull();
    expect(limit.acquire(2)).not.toBeNull();
    releases[0]!();
    releases[0]!(); // an abort and a cancel of the same stream
    expect(limit.count(1)).toBe(9);
    expect(limit.acquire(1)).not.toBeNull();
    expect(limit.acquire(1)).toBeNull();
  });
});
