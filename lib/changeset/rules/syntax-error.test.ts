import { describe, expect, it } from "vitest";
import { lintText } from "../lint";
import { findings } from "./testing";

const rulesByLine = async (text: string) => (await lintText({ file: "f.sql", text })).findings.map((f) => `${f.line} ${f.rule}`);

describe("syntax-error", () => {
  it("fires at the line and column the parser reports, naming the lines it could not check", async () => {
    expect(await findings("syntax-error", "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY i ON t (a;\n")).toEqual([
      '2:36 line 2 could not be checked: syntax error at or near ";"',
    ]);
    expect(await findings("syntax-error", "SELECT 1;\nCREATE INDEX CONCURRENTLY i\n  ON t (a\n  WHERE;\nSELECT 2;\n")).toEqual([
      '4:3 lines 2–4 could not be checked: syntax error at or near "WHERE"',
    ]);
  });

  it("still lints and counts the statements around a broken one", async () => {
    const r = await lintText({
      file: "f.sql",
      text: "CREATE INDEX a ON t (x);\nCREAT INDEX b ON t (y);\nCREATE INDEX CONCURRENTLY c ON t (z);\n",
    });
    expect(r.statements).toBe(2);
    expect(r.indexes).toEqual(["a", "c"]);
    expect(r.findings.map((f) => `${f.line} ${f.rule}`)).toContain("1 require-concurrent-index-creation");
    expect(r.findings.map((f) => `${f.line} ${f.rule}`)).toContain("2 syntax-error");
  });

  it("goes on checking after a scanner error inside a closed literal", async () => {
    const text = "COMMENT ON INDEX i IS E'\\u061';\nCREATE INDEX a ON t (x);\n";
    expect(await rulesByLine(text)).toContain("2 require-concurrent-index-creation");
    expect(await findings("syntax-error", text)).toEqual(["1:25 line 1 could not be checked: invalid Unicode escape"]);
  });

  it("reads E'' escapes, doubled quotes, dollar quotes and nested comments as the server does", async () => {
    const text = [
      "COMMENT ON INDEX i IS E'it\\'s; still the string';",
      "COMMENT ON INDEX i IS 'a ''quoted''; word';",
      "COMMENT ON INDEX i IS $tag$ $$; $tag$;",
      "/* outer /* inner; */ still a comment; */ CREATE INDEX a ON t (x);",
      "CREATE INDEX b ON t (y); -- a comment; with a semicolon",
    ].join("\n");
    const r = await lintText({ file: "f.sql", text });
    expect(r.statements).toBe(5);
    expect(r.findings.filter((f) => f.rule === "syntax-error")).toEqual([]);
    expect(r.findings.filter((f) => f.rule === "require-concurrent-index-creation").map((f) => f.line)).toEqual([4, 5]);
  });

  it("ends a -- comment at a carriage return, as the server's scanner does", async () => {
    expect(await rulesByLine("-- looks like a comment\rCREATE INDEX a ON t (x);\r\n")).toContain("1 require-concurrent-index-creation");
  });

  it("says the rest of the file is unchecked after a literal that never closes, with its lines", async () => {
    expect(await findings("syntax-error", "SELECT 1;\nCOMMENT ON INDEX i IS 'oops;\nCREATE INDEX a ON t (x);\n\n")).toEqual([
      "2:23 lines 2–3 could not be checked: unterminated quoted string: it never closes, so the server would read everything after it as part of it",
    ]);
    expect(await findings("syntax-error", "SELECT 1;\nCOMMENT ON INDEX i IS $x$never closed;\n")).toEqual([
      "2:23 line 2 could not be checked: unterminated dollar-quoted string: it never closes, so the server would read everything after it as part of it",
    ]);
    expect(await findings("syntax-error", "SELECT 1; /* open\n;\n")).toEqual([
      "1:11 lines 1–2 could not be checked: unterminated /* comment: it never closes, so the server would read everything after it as part of it",
    ]);
    expect(await findings("syntax-error", 'SELECT "open;\n')).toEqual([
      "1:8 line 1 could not be checked: unterminated quoted identifier: it never closes, so the server would read everything after it as part of it",
    ]);
  });

  it("keeps a statement whose body holds semicolons whole (BEGIN ATOMIC, rule actions)", async () => {
    const text = "CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELECT 2;\nEND;\nCREATE INDEX a ON t (x);\n";
    const r = await lintText({ file: "f.sql", text });
    expect(r.findings.filter((f) => f.rule === "syntax-error")).toEqual([]);
    expect(r.statements).toBe(2);
    expect(r.findings.map((f) => `${f.line} ${f.rule}`)).toEqual(
      expect.arrayContaining(["1 non-index-statement", "6 require-concurrent-index-creation"]),
    );
  });

  it("leaves psql meta-commands to psql-meta-command", async () => {
    expect(await findings("syntax-error", "\\set x 1\nSELECT 1;\n")).toEqual([]);
  });

  it("does not fire on valid SQL, comments and dollar quotes", async () => {
    expect(await findings("syntax-error", "-- c\n/* b */ COMMENT ON INDEX i IS $$a;b$$;\n")).toEqual([]);
    expect(await findings("syntax-error", "SELECT 1;;\n-- only a comment after the last statement\n")).toEqual([]);
  });

  it("reports columns in characters when the line has multi-byte text", async () => {
    expect(await findings("syntax-error", "COMMENT ON INDEX i IS 'é'; CREAT x;\n")).toEqual([
      '1:28 line 1 could not be checked: syntax error at or near "CREAT"',
    ]);
  });
});
