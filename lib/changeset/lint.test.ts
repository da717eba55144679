import { describe, expect, it } from "vitest";
import { lintCorpus } from "../../bench/lint-corpus";
import { lintParts, lintText } from "./lint";

// Past the first 64 KB of SQL a statement's tree is dropped once its facts are read (parse.ts):
// what the linter says of a statement must not depend on where in the file it sits.
const TAIL = [
  "SET lock_timeout = 0;",
  "DROP INDEX CONCURRENTLY a, b CASCADE;",
  "CREATE INDEX x ON t (a) WHERE b > 1;",
  "REINDEX (CONCURRENTLY false) TABLE t;",
  "COMMENT ON INDEX i IS 'a\\';",
  "CREATE UNIQUE INDEX CONCURRENTLY idx_" + "n".repeat(70) + " ON t (a);",
  "ALTER INDEX i RENAME TO j;",
  "RESET lock_timeout;",
  "SET search_path = evil;",
  "CREATE INDEX CONCURRENTLY x ON public.t (a);",
].join("\n");

const said = async (text: string, firstLine: number) =>
  (await lintText({ file: "f.sql", text })).findings
    .filter((f) => f.line >= firstLine)
    .map(
      (f) => `${f.line - firstLine + 1}:${f.column} ${f.rule} ${f.message.replace(/line (\d+)/, (_, n) => `line ${n - firstLine + 1}`)}`,
    );

describe("lintChangeSet on a long file", () => {
  it("finds in statements far into a file exactly what it finds in them alone", async () => {
    const filler = Array.from({ length: 3000 }, (_, i) => `COMMENT ON INDEX filler_${i} IS 'line ${i}';`).join("\n");
    expect(Buffer.byteLength(filler)).toBeGreaterThan(64 * 1024);
    const alone = await said(TAIL, 1);
    expect(alone.length).toBeGreaterThan(8);
    expect(await said(`${filler}\n${TAIL}`, 3001)).toEqual(alone);
  });
});

describe("lintParts", () => {
  it("finds, a few statements at a time, what one pass over the whole file finds", async () => {
    for (const seed of [1, 2, 3]) {
      const text = `${TAIL}\n${lintCorpus(40_000, { seed })}\n${TAIL}`;
      const whole = await lintText({ file: "f.sql", text });
      const parts = lintParts({ file: "f.sql", text }, { partStatements: 3 });
      const found = [];
      let part = parts.next();
      for (; !part.done; part = parts.next()) found.push(part.value);
      expect(found.length).toBeGreaterThan(100);
      expect(found.flat()).toEqual(whole.findings);
      expect(part.value).toEqual({ file: "f.sql", statements: whole.statements, indexes: whole.indexes });
    }
  });
});

describe("a long file", () => {
  it("is linted as when every statement's tree is decoded and kept, as a short file's are", async () => {
    // Findings of every kind, psql input, and SQL that does not parse in the middle of a long file.
    const middle = "CREATE INDEX mid ON t (a);\nSELECT 1 +;\nSET lock_timeout = 0;\n";
    const text = `${lintCorpus(200_000, { seed: 5 })}\n${middle}${TAIL}\n${lintCorpus(200_000, { seed: 6 })}`;
    const middleLine = text.slice(0, text.indexOf(middle)).split("\n").length;
    const long = await lintText({ file: "f.sql", text });
    const everyTree = lintParts({ file: "f.sql", text }, { keptTreeBytes: Infinity });
    const found = [];
    let part = everyTree.next();
    for (; !part.done; part = everyTree.next()) found.push(...part.value);
    expect(long.findings).toEqual(found);
    expect({ file: long.file, statements: long.statements, indexes: long.indexes }).toEqual(part.value);
    const rules = new Set(long.findings.map((f) => f.rule));
    for (const rule of ["syntax-error", "psql-meta-command", "non-index-statement", "setting-out-of-range", "index-name-too-long"])
      expect(rules).toContain(rule);
    expect(long.findings).toContainEqual(expect.objectContaining({ line: middleLine + 1, rule: "syntax-error" }));
    expect(long.findings.filter((f) => f.line > middleLine + 3).length).toBeGreaterThan(1000);
  });
});
