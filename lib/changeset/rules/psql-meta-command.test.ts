import { describe, expect, it } from "vitest";
import { lintText } from "../lint";
import { findings } from "./testing";

describe("psql-meta-command", () => {
  it("fires on each meta-command line, and the statements after it are still checked", async () => {
    const text = "\\timing on\n\\set x 1\nCREATE INDEX a ON t (x);\n\\d t\n";
    const r = await lintText({ file: "f.sql", text });
    expect(r.findings.map((f) => `${f.line} ${f.rule}`)).toContain("3 require-concurrent-index-creation");
    expect(r.statements).toBe(1);
    expect(await findings("psql-meta-command", text)).toEqual([
      "1:1 line 1 could not be checked: \\timing is a psql meta-command, not SQL",
      "2:1 line 2 could not be checked: \\set is a psql meta-command, not SQL",
      "4:1 line 4 could not be checked: \\d is a psql meta-command, not SQL",
    ]);
  });

  it("fires on a meta-command after a statement on the same line, which is checked on its own", async () => {
    const text = "SELECT 1 AS n \\gset\nCREATE INDEX CONCURRENTLY b ON t (y);\n";
    expect(await findings("psql-meta-command", text)).toEqual(["1:15 line 1 could not be checked: \\gset is a psql meta-command, not SQL"]);
    expect((await lintText({ file: "f.sql", text })).statements).toBe(2);
  });

  it("does not fire on backslashes inside strings, identifiers, dollar quotes and comments", async () => {
    const text =
      "COMMENT ON INDEX i IS 'C:\\dir';\nCOMMENT ON INDEX \"a\\b\" IS E'\\n';\nCOMMENT ON INDEX i IS $$\\d$$; -- \\d\n/* \\set */\n";
    expect(await findings("psql-meta-command", text)).toEqual([]);
    expect(await findings("syntax-error", text)).toEqual([]);
  });
});

describe("psql-meta-command on COPY … FROM STDIN data", () => {
  const text = "COPY people (name) FROM stdin;\nO'Brien\nsemi;colon\n\\.\nCREATE INDEX a ON t (x);\n";

  it("fires once for the data lines, which do not swallow the statements after them", async () => {
    const r = await lintText({ file: "f.sql", text });
    expect(r.findings.map((f) => `${f.line} ${f.rule}`)).toContain("5 require-concurrent-index-creation");
    expect(await findings("psql-meta-command", text)).toEqual([
      "2:1 lines 2–4 could not be checked: data for COPY … FROM STDIN, which psql sends and indexdeck does not",
    ]);
    expect(await findings("syntax-error", text)).toEqual([]);
    expect(r.statements).toBe(2);
  });

  it("does not fire on COPY from a file, to STDOUT, or a table called stdin inside parentheses", async () => {
    const other = "COPY t FROM '/tmp/x.csv';\nCOPY (SELECT * FROM stdin) TO STDOUT;\nSELECT 1 FROM stdin;\nCREATE INDEX a ON t (x);\n";
    expect(await findings("psql-meta-command", other)).toEqual([]);
    expect((await lintText({ file: "f.sql", text: other })).statements).toBe(4);
  });
});
