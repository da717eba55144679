import { describe, expect, it } from "vitest";
import { findings } from "./testing";

describe("transaction-wrapper", () => {
  it("fires on every kind of transaction control", async () => {
    const sql = "BEGIN;\nSTART TRANSACTION;\nSAVEPOINT s;\nROLLBACK;\nCOMMIT;\nEND;\n";
    expect((await findings("transaction-wrapper", sql)).map((f) => f.split(" ")[0])).toEqual(["1:1", "2:1", "3:1", "4:1", "5:1", "6:1"]);
  });
  it("does not fire on a file without transaction control", async () => {
    expect(await findings("transaction-wrapper", "CREATE INDEX CONCURRENTLY i ON t (a);\n")).toEqual([]);
  });
});
