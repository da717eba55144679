import { describe, expect, it } from "vitest";
import { intervalCache } from "./interval-cache";

const settle = () => new Promise((r) => setTimeout(r, 0));

describe("intervalCache", () => {
  it("shares one read among concurrent callers within the interval", async () => {
    const cache = intervalCache<number>();
    let reads = 0;
    const read = async () => ++reads;
    const [a, b] = [cache("k", 60_000, read), cache("k", 60_000, read)];
    expect(await a).toBe(1);
    expect(await b).toBe(1);
    expect(await cache("other", 60_000, read)).toBe(2); // keys are separate
    expect(reads).toBe(2);
  });

  it("after the interval, answers with the last value at once and reads the next behind it, once", async () => {
    const cache = intervalCache<number>();
    let reads = 0;
    let release: (v: number) => void = () => undefined;
    const slow = () =>
      new Promise<number>((resolve) => {
        reads++;
        release = resolve;
      });
    await cache("k", 60_000, async () => 1);
    expect(await cache("k", 0, slow)).toBe(1); // stale, served while the refresh runs
    expect(await cache("k", 0, slow)).toBe(1); // the refresh is still running: no second one
    expect(reads).toBe(1);
    release(2);
    await settle();
    expect(await cache("k", 60_000, slow)).toBe(2);
  });

  it("does not keep a failed first read, and keeps the last good value when a refresh fails", async () => {
    const cache = intervalCache<string>();
    let fail = true;
    let reads = 0;
    const read = async () => {
      reads++;
      if (fail) throw new Error("down");
      return `v${reads}`;
    };
    await expect(cache("k", 60_000, read)).rejects.toThrow("down");
    await settle();
    fail = false;
    expect(await cache("k", 60_000, read)).toBe("v2"); // read again, not the failure kept
    fail = true;
    expect(await cache("k", 0, read)).toBe("v2"); // the refresh behind it fails…
    await settle();
    expect(await cache("k", 60_000, read)).toBe("v2"); // …and the good value stays
    fail = false;
    expect(await cache("k", 0, read)).toBe("v2"); // the next caller past the interval tries again
    await settle();
    expect(await cache("k", 60_000, read)).toBe("v4");
  });
});
