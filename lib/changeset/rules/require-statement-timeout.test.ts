import { describe, expect, it } from "vitest";
import { findings } from "./testing";

describe("require-statement-timeout", () => {
  it("fires when statement_timeout is not set before the first index statement", async () => {
    expect(await findings("require-statement-timeout", "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY a ON t (x);\n")).toHaveLength(
      1,
    );
  });
  it("fires when a RESET undoes the SET", async () => {
    expect(
      await findings("require-statement-timeout", "SET statement_timeout = 0;\nRESET ALL;\nCREATE INDEX CONCURRENTLY a ON t (x);\n"),
    ).toHaveLength(1);
  });
  it("does not fire when it is set, even to 0", async () => {
    expect(await findings("require-statement-timeout", "SET statement_timeout = 0;\nCREATE INDEX CONCURRENTLY a ON t (x);\n")).toEqual([]);
  });
});
