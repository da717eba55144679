import { describe, expect, it } from "vitest";
import { findings } from "./testing";

describe("set-local-outside-transaction", () => {
  it("fires on SET LOCAL", async () => {
    expect(await findings("set-local-outside-transaction", "SET LOCAL lock_timeout = '1s';\n")).toEqual([
      "1:1 SET LOCAL lock_timeout has no effect: rollout statements run outside transactions, so nothing is local",
    ]);
  });
  it("does not fire on SET", async () => {
    expect(await findings("set-local-outside-transaction", "SET lock_timeout = '1s';\n")).toEqual([]);
  });
});
