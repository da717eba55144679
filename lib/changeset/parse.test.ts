import { parseSync } from "./pg-parser";
import { beforeAll, describe, expect, it } from "vitest";
import { lintCorpus } from "../../bench/lint-corpus";
import { parseChangeSet, parserReady } from "./parse";

beforeAll(() => parserReady());

/** A tree without positions: the same statement parsed at another offset has other locations. */
const shape = (node: unknown): string => JSON.stringify(node, (k, v) => (k === "location" ? undefined : v));

describe("parseChangeSet", () => {
  it("finds the statements, trees and texts one whole-file parse finds", () => {
    const text = lintCorpus(200_000, { broken: false });
    const whole = (parseSync(text) as { stmts: Array<{ stmt: object; stmt_location?: number }> }).stmts;
    const parsed = parseChangeSet("c.sql", text);
    expect(parsed.syntaxErrors).toEqual([]);
    expect(parsed.statements.map((s) => shape(s.node))).toEqual(whole.map((w) => shape(w.stmt)));
    expect(parsed.statements.map((s) => s.kind)).toEqual(whole.map((w) => Object.keys(w.stmt)[0]));
  });

  it("gives every statement a text that parses alone to that statement, around errors and meta-commands", () => {
    const text = lintCorpus(200_000, { seed: 7 });
    const parsed = parseChangeSet("c.sql", text);
    const lines = text.split("\n");
    const metaCommands = lines.filter((l) => /\\(set|d|gset)\b/.test(l)).length;
    const copyBlocks = lines.filter((l) => l.endsWith("FROM stdin;")).length;
    expect(parsed.syntaxErrors.filter((e) => e.kind === "meta-command").length).toBe(metaCommands + copyBlocks);
    for (const s of parsed.statements) {
      const alone = (parseSync(s.text) as { stmts: Array<{ stmt: object }> }).stmts;
      expect(alone.map((a) => Object.keys(a.stmt)[0])).toEqual([s.kind]);
    }
  });

  it("reads a statement's tree again when asked, the same each time", () => {
    const [stmt] = parseChangeSet("c.sql", "-- c\nCREATE INDEX CONCURRENTLY a ON t (x) WHERE y > 1;\n").statements;
    expect(stmt.text).toBe("CREATE INDEX CONCURRENTLY a ON t (x) WHERE y > 1");
    expect(stmt.node).toBe(stmt.node);
    expect(Object.keys(stmt.node)).toEqual(["IndexStmt"]);
  });
});

describe("parseChangeSet around a broken statement that spans pieces", () => {
  it("reports the broken body once and still finds the statements before and after it", () => {
    const good = Array.from({ length: 40 }, (_, i) => `CREATE INDEX CONCURRENTLY i${i} ON t (x);`).join("\n");
    const text = `${good}\nCREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELEC 2;\nEND;\n${good.replaceAll(" i", " j")}\n`;
    const parsed = parseChangeSet("c.sql", text);
    expect(parsed.statements.filter((s) => s.kind === "IndexStmt")).toHaveLength(80);
    expect(parsed.syntaxErrors.length).toBeGreaterThan(0);
    expect(parsed.syntaxErrors.every((e) => e.line >= 41 && e.line <= 45)).toBe(true);
  });
});

describe("ignore directives above a statement", () => {
  it("are the comment lines right above it, blanks before the dashes and all, up to a line that is not one", () => {
    // The first line ends in a directive but starts with SQL: it is not one of the comment lines above.
    const lines = [
      "SELECT 1; -- indexdeck-ignore unique-index-bans-duplicates",
      "--indexdeck-ignore require-concurrent-index",
      "\t -- indexdeck-ignore unnamed-index",
    ];
    const { statements } = parseChangeSet("f.sql", `${lines.join("\n")}\nCREATE INDEX ON t (a);\n`);
    expect(statements[1].ignored).toEqual(["unnamed-index", "require-concurrent-index"]);
    // A blank line ends the run: nothing above it counts.
    const above = parseChangeSet("g.sql", "-- indexdeck-ignore unnamed-index\n\r\nCREATE INDEX ON t (a);\n");
    expect(above.statements[0].ignored).toEqual([]);
    const crlf = parseChangeSet("h.sql", "SELECT 1;\r\n  -- indexdeck-ignore unnamed-index\r\nCREATE INDEX ON t (a);\r\n");
    expect(crlf.statements[1].ignored).toEqual(["unnamed-index"]);
  });
});
