import { describe, expect, it } from "vitest";
import { BusyError, WorkLimit } from "./work-limit";

const tick = () => new Promise((r) => setTimeout(r, 5));

// A report costs tens of milliseconds of the server's one JavaScript thread; fifty at once used to
// queue everything behind them, sign-ins included. Generated a few at a time, the rest wait in line
// without using the thread, and whatever else arrives (a sign-in) is served in between.
describe("work limited per app server", () => {
  it("runs at most `concurrent` at once, the rest in arrival order, and refuses beyond `waiting` in line", async () => {
    const limit = new WorkLimit("reports", 2, 2);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const job = (n: number) =>
      limit.run(async () => {
        running++;
        most = Math.max(most, running);
        await tick();
        order.push(n);
        running--;
        return n;
      });
    const accepted = [job(1), job(2), job(3), job(4)];
    await expect(job(5)).rejects.toThrow(new BusyError("reports: 2 running and 2 waiting on this server; try again in a few seconds"));
    expect(await Promise.all(accepted)).toEqual([1, 2, 3, 4]);
    expect(most).toBe(2);
    expect(order).toEqual([1, 2, 3, 4]);
    expect(limit.load()).toEqual({ running: 0, waiting: 0 });
    expect(await job(6)).toBe(6);
  });

  it("frees the place of work that fails", async () => {
    const limit = new WorkLimit("reports", 1, 0);
    await expect(
      limit.run(async () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await limit.run(async () => "next")).toBe("next");
  });
});
