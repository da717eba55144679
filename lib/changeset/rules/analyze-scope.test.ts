import { describe, expect, it } from "vitest";
import { findings } from "./testing";

describe("analyze-scope", () => {
  it("fires on ANALYZE without a table", async () => {
    expect(await findings("analyze-scope", "ANALYZE;\nANALYZE VERBOSE;\n")).toHaveLength(2);
  });
  it("does not fire on ANALYZE of named tables", async () => {
    expect(await findings("analyze-scope", "ANALYZE orders;\nANALYZE (SKIP_LOCKED) orders (org_id), payments;\n")).toEqual([]);
  });
});
