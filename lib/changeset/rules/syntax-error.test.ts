import { describe, expect, it } from "vitest";
import { lintText } from "../lint";
import { findings } from "./testing";

describe("syntax-error", () => {
  it("fires at the line and column the parser reports", async () => {
    expect(await findings("syntax-error", "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY i ON t (a;\n")).toEqual([
      "2:36 syntax error at or near \";\"",
    ]);
  });

  it("still lints and counts the statements around a broken one", async () => {
    const r = await lintText({ file: "f.sql", text: "CREATE INDEX a ON t (x);\nCREAT INDEX b ON t (y);\nCREATE INDEX CONCURRENTLY c ON t (z);\n" });
    expect(r.statements).toBe(2);
    expect(r.indexes).toEqual(["a", "c"]);
    expect(r.findings.map((f) => `${f.line} ${f.rule}`)).toContain("1 require-concurrent-index-creation");
    expect(r.findings.map((f) => `${f.line} ${f.rule}`)).toContain("2 syntax-error");
  });

  it("explains an unterminated literal and a psql meta-command", async () => {
    expect((await findings("syntax-error", "SELECT 1;\nCOMMENT ON INDEX i IS 'oops;\n"))[0]).toMatch(/^2:23 unterminated quoted string.*rest of the file was not checked/);
    expect((await findings("syntax-error", "\\i other.sql\n"))[0]).toMatch(/^1:1 psql meta-command \(\\i\) is not SQL/);
  });

  it("does not fire on valid SQL, comments and dollar quotes", async () => {
    expect(await findings("syntax-error", "-- c\n/* b */ COMMENT ON INDEX i IS $$a;b$$;\n")).toEqual([]);
  });

  it("reports columns in characters when the line has multi-byte text", async () => {
    expect(await findings("syntax-error", "COMMENT ON INDEX i IS 'é'; CREAT x;\n")).toEqual(["1:28 syntax error at or near \"CREAT\""]);
  });
});
