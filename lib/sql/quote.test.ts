import { describe, expect, it } from "vitest";
import { quoteIdent } from "./quote";

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
