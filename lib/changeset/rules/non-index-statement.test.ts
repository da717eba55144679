import { describe, expect, it } from "vitest";
import { findings } from "./testing";

describe("non-index-statement", () => {
  it("fires on anything that is not about indexes", async () => {
    const sql = "ALTER TABLE t ADD COLUMN c int;\nDELETE FROM t;\nVACUUM t;\nDROP TABLE t;\nCOMMENT ON TABLE t IS 'x';\n";
    expect((await findings("non-index-statement", sql)).map((f) => f.split(" ")[0])).toEqual(["1:1", "2:1", "3:1", "4:1", "5:1"]);
  });
  it("does not fire on SET, RESET, index statements, COMMENT ON INDEX or ANALYZE", async () => {
    const sql = "SET lock_timeout = '1s';\nRESET lock_timeout;\nCREATE INDEX CONCURRENTLY a ON t (x);\nDROP INDEX CONCURRENTLY a;\nREINDEX INDEX CONCURRENTLY a;\nCOMMENT ON INDEX a IS 'x';\nANALYZE t;\n";
    expect(await findings("non-index-statement", sql)).toEqual([]);
  });
});
