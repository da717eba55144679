import { describe, expect, it } from "vitest";
import { findings } from "./testing";

describe("unnamed-index", () => {
  it("fires on an index without a name", async () => {
    expect(await findings("unnamed-index", "CREATE INDEX CONCURRENTLY ON payments (org_id);\n")).toEqual([
      "1:1 index on payments has no name",
    ]);
  });
  it("does not fire on a named index", async () => {
    expect(await findings("unnamed-index", "CREATE INDEX CONCURRENTLY p ON payments (org_id);\n")).toEqual([]);
  });
});
