import { loadModule, parseSync } from "libpg-query";
import { beforeAll, describe, expect, it } from "vitest";
import { quoteIdent, quoteQualified } from "./quote";

describe("quoteIdent", () => {
  it("doubles embedded quotes so a name cannot end the identifier", () => {
    expect(quoteIdent('a"; DROP TABLE x; --')).toBe('"a""; DROP TABLE x; --"');
  });
  it("refuses empty, over-long and NUL-carrying names", () => {
    expect(() => quoteIdent("")).toThrow(/invalid identifier/);
    expect(() => quoteIdent("x".repeat(64))).toThrow(/1-63/);
    expect(() => quoteIdent("a\0b")).toThrow(/NUL/);
  });
});

// Names a catalog can hold that break SQL built by hand: each must come back from the parser as itself.
const HOSTILE = [
  "plain",
  'dq"uote',
  "sq'uote",
  "back\\slash",
  "end*/x",
  "/*open",
  "da--sh",
  "l\nf",
  "c\rr",
  "cr\r\nlf",
  "\\' ; DROP TABLE t; --",
  "índice_ü_日本",
  "Mixed Case",
  "x\u2028y",
  "$1",
  "$$",
];

describe("quoteQualified", () => {
  beforeAll(() => loadModule());

  it("quotes schema and name apart, and leaves an unqualified name to the search_path", () => {
    expect(quoteQualified("public", "t_a")).toBe('"public"."t_a"');
    expect(quoteQualified('s"x', "i.y")).toBe('"s""x"."i.y"');
    expect(quoteQualified(null, "t_a")).toBe('"t_a"');
  });

  it("refuses what quoteIdent refuses, in either part", () => {
    expect(() => quoteQualified("", "t")).toThrow(/invalid identifier ""/);
    expect(() => quoteQualified("s", "a\0b")).toThrow(/NUL/);
  });

  it.each(HOSTILE.flatMap((schema) => HOSTILE.map((name) => [schema, name])))(
    "parses back to exactly the schema %j and the name %j",
    (schema, name) => {
      const tree = parseSync(`DROP INDEX CONCURRENTLY IF EXISTS ${quoteQualified(schema, name)}`) as {
        stmts: Array<{ stmt: { DropStmt: { objects: Array<{ List: { items: Array<{ String: { sval: string } }> } }> } } }>;
      };
      expect(tree.stmts).toHaveLength(1);
      expect(tree.stmts[0].stmt.DropStmt.objects.map((o) => o.List.items.map((i) => i.String.sval))).toEqual([[schema, name]]);
    },
  );
});
