import { parseSync } from "libpg-query";
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
