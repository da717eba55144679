import { beforeAll, describe, expect, it } from "vitest";
import { parseBytes, parserReady, parseSync } from "./pg-parser";

beforeAll(() => parserReady());

/** What parseBytes reads off the JSON in place, against libpg-query's whole decoded parse. */
function both(sql: string) {
  const fast = parseBytes(Buffer.from(sql), () => true).map((s) => ({
    kind: s.kind,
    location: s.location,
    length: s.length,
    tree: s.tree,
  }));
  const whole = (parseSync(sql).stmts ?? []).map((s) => {
    const [kind] = Object.keys(s.stmt!);
    return { kind, location: s.stmt_location ?? 0, length: s.stmt_len, tree: s.stmt };
  });
  return { fast, whole };
}

describe("parseBytes finds each statement's tree without walking it", () => {
  it.each([
    ["a string that spells the keys after a tree", `SELECT '},"stmt_len":1,"stmt_location":2'; SELECT 2;`],
    ["an identifier that spells them", `SELECT 1 AS "x"",""stmt_len"":3"; CREATE INDEX CONCURRENTLY i ON t (a);`],
    ["a lone statement without a semicolon", "SELECT 1"],
    ["a first statement at offset 0 followed by others", "SELECT 1; SELECT 2; SELECT 3"],
    ["empty statements between", ";; SELECT 1;; ;SELECT 2;"],
    ["nested statements (CREATE SCHEMA with elements, EXPLAIN)", "CREATE SCHEMA s CREATE TABLE t (a int); EXPLAIN SELECT 1;"],
  ])("%s", (_name, sql) => {
    const { fast, whole } = both(sql);
    expect(fast).toEqual(whole);
    expect(fast.length).toBeGreaterThan(0);
  });
});
