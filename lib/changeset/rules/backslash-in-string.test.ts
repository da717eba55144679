import { describe, expect, it } from "vitest";
import { findings } from "./testing";

describe("backslash-in-string", () => {
  it("fires on a standard string whose end depends on standard_conforming_strings", async () => {
    const sql = "COMMENT ON INDEX orders_pkey IS 'ok\\'\n' ; DROP TABLE orders; --';\nCOMMENT ON INDEX i IS 'trailing \\';\n";
    expect((await findings("backslash-in-string", sql)).map((f) => f.split(" ")[0])).toEqual(["1:1", "3:1"]);
  });
  it("does not fire on E'' strings, dollar quotes, identifiers or comments holding backslashes", async () => {
    const sql =
      "COMMENT ON INDEX i IS E'a\\\\b';\nCOMMENT ON INDEX i IS $$a\\b$$;\n-- a \\ comment\nCOMMENT ON INDEX \"we\\ird\" IS 'plain';\n";
    expect(await findings("backslash-in-string", sql)).toEqual([]);
  });
});
