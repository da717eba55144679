import fc from "fast-check";
import { scanSync } from "./pg-parser";
import { beforeAll, describe, expect, it } from "vitest";
import { parserReady } from "./parse";
import { splitStatements, type Piece } from "./split";

const pieces = (sql: string) =>
  splitStatements(Buffer.from(sql, "utf8")).map((p: Piece) => `${p.kind}:${Buffer.from(sql).subarray(p.start, p.end).toString()}`);

beforeAll(() => parserReady());

describe("splitStatements", () => {
  it("splits at top-level semicolons only", () => {
    expect(pieces("SELECT ';';SELECT \"a;b\";SELECT $q$;$q$;SELECT E'\\';';SELECT 1 /* ; /* ; */ */;-- ;\n")).toEqual([
      "sql:SELECT ';';",
      'sql:SELECT "a;b";',
      "sql:SELECT $q$;$q$;",
      "sql:SELECT E'\\';';",
      "sql:SELECT 1 /* ; /* ; */ */;",
      "sql:-- ;\n",
    ]);
  });

  it("reads a backslash in a plain string as a character (standard_conforming_strings on)", () => {
    expect(pieces("SELECT 'a\\';SELECT 2;")).toEqual(["sql:SELECT 'a\\';", "sql:SELECT 2;"]);
  });

  it("takes E only as a prefix of its own, and $ inside a word as part of it", () => {
    expect(pieces("SELECT de'\\';SELECT a$b$;SELECT 2;")).toEqual(["sql:SELECT de'\\';", "sql:SELECT a$b$;", "sql:SELECT 2;"]);
  });

  it("cuts a psql meta-command at its line end, keeping what came before it", () => {
    expect(pieces("SELECT 1 \\gset\n\\set x 'a;b'\nSELECT 2;")).toEqual([
      "sql:SELECT 1 ",
      "meta-command:\\gset",
      "sql:\n",
      "meta-command:\\set x 'a;b'",
      "sql:\nSELECT 2;",
    ]);
  });

  it("takes the lines after COPY … FROM STDIN, through \\., as psql's data", () => {
    expect(pieces("copy t (a) from STDIN;\n1\tit's\r\n\\.\r\nSELECT 2;")).toEqual([
      "sql:copy t (a) from STDIN;\n",
      "copy-data:1\tit's\r\n\\.\r\n",
      "sql:SELECT 2;",
    ]);
  });

  it("gives an unterminated literal the rest of the file, from its statement's start", () => {
    expect(splitStatements(Buffer.from("SELECT 1;\nSELECT 'x;\nSELECT 2;"))).toEqual([
      { kind: "sql", start: 0, end: 9 },
      { kind: "unterminated", start: 9, end: 30, openAt: 17, literal: "quoted string" },
    ]);
  });

  const fragment = fc.constantFrom(
    "SELECT",
    " ",
    "\n",
    "\r",
    "\r\n",
    ";",
    "x",
    "é",
    "1",
    "1.5e3",
    "$1",
    "'a;b'",
    "'it''s'",
    "E'\\';'",
    "e'\\\\'",
    "U&'\\0061' UESCAPE '!'",
    "B'101'",
    "X'1F'",
    '"q;""id"',
    'U&"d;"',
    "$$;$$",
    "$t$ $$ ; $t$",
    "a$b",
    "-- c;\n",
    "/* ; /* n */ */",
    "(",
    ")",
    "+",
    "*",
    "/",
    "-",
    "'\\'",
    "'a\\b'",
    "N'\\'",
    "b'1'",
    "'x' -- c\n'\\'",
    "'x'\n\n '\\'",
    "E'y'\n '\\''",
    "U&'a'\n'\\'",
  );

  it("finds the same semicolons as PostgreSQL's scanner on anything the scanner accepts", () => {
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 30 }), (parts) => {
        // The newline keeps a comment at the very end from ending the last piece on a `;` of its own.
        const sql = `${parts.join("")}\n`;
        let tokens;
        try {
          tokens = scanSync(sql).tokens;
        } catch {
          return; // the scanner refuses it: nothing to compare with
        }
        // A backslash outside literals is where psql takes over (a meta-command to the line end).
        if (tokens.some((t) => t.text === "\\")) return;
        const bytes = Buffer.from(sql, "utf8");
        const scannerEnds = tokens.filter((t) => t.tokenName === "ASCII_59").map((t) => t.end);
        const ours = splitStatements(bytes)
          .filter((p) => p.kind === "sql" && bytes[p.end - 1] === 0x3b)
          .map((p) => p.end);
        expect(ours).toEqual(scannerEnds);
      }),
      { numRuns: 5000 },
    );
  });

  it("finds the standard string literals holding a backslash that PostgreSQL's scanner finds", () => {
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 30 }), (parts) => {
        const sql = `${parts.join("")}\n`;
        let tokens;
        try {
          tokens = scanSync(sql).tokens;
        } catch {
          return;
        }
        if (tokens.some((t) => t.text === "\\")) return;
        const bytes = Buffer.from(sql, "utf8");
        // What a server with standard_conforming_strings off reads differently: '…' and N'…' with a backslash.
        const scanner = tokens
          .filter((t) => t.tokenName === "SCONST" && /^[nN]?'/.test(bytes.subarray(t.start, t.end).toString()))
          .filter((t) => bytes.subarray(t.start, t.end).includes(0x5c))
          .map((t) => t.start);
        const pieces = splitStatements(bytes).filter((p) => p.kind === "sql");
        const ours = pieces.flatMap((p) => (p.backslashAt === undefined ? [] : [p.backslashAt]));
        const expected = pieces.flatMap((p) => scanner.filter((at) => at >= p.start && at < p.end).slice(0, 1));
        expect(ours).toEqual(expected);
      }),
      { numRuns: 5000 },
    );
  });
});
