import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parserReady, parseSync } from "../lib/changeset/pg-parser";
// @ts-expect-error: plain JavaScript, without declarations
import { withSmallerMemory } from "./cli-build.mjs";

const { compiledCli } = createRequire(import.meta.url)("./cli-load.cjs") as { compiledCli: (root: string) => Promise<string> };

const PAGE = 64 * 1024;
const leb = (n: number): number[] => (n < 0x80 ? [n] : [(n & 0x7f) | 0x80, ...leb(n >>> 7)]);
/** Signed LEB128 of a non-negative number: one more byte where the last one's sign bit would be set. */
const sleb = (n: number): number[] => (n < 0x40 ? [n] : [(n & 0x7f) | 0x80, ...sleb(n >>> 7)]);
const section = (id: number, content: number[]) => [id, ...leb(content.length), ...content];

/**
 * A module with one exported memory of `min` pages (and `max`, if given), a mutable i32 global at
 * `global`, and "abc" at address 0 (or, passive, copied where code would say).
 */
function module(min: number, max: number | undefined, global: number, data: "active" | "passive" = "active"): Buffer {
  return Buffer.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(5, [1, max === undefined ? 0 : 1, ...leb(min), ...(max === undefined ? [] : leb(max))]),
    ...section(6, [1, 0x7f, 1, 0x41, ...sleb(global), 0x0b]),
    ...section(7, [1, 3, ...Buffer.from("mem"), 2, 0]),
    ...section(11, [1, ...(data === "active" ? [0, 0x41, 0, 0x0b] : [1]), 3, ...Buffer.from("abc")]),
  ]);
}

const memoryOf = (wasm: Buffer) =>
  (new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(wasm))).exports.mem as WebAssembly.Memory).buffer;

describe("the parser's WebAssembly in the compiled CLI", () => {
  it("starts with the memory its static data and stack need plus 4 MB, where the module may grow, and never more than it declared", () => {
    const smaller = withSmallerMemory(module(2048, 16384, 100_000));
    const memory = memoryOf(smaller);
    expect(memory.byteLength).toBe(Math.ceil((100_000 + 4 * 1024 * 1024) / PAGE) * PAGE);
    expect(Buffer.from(memory, 0, 3).toString()).toBe("abc");
    // No maximum: it may grow as far as the engine lets it.
    expect(memoryOf(withSmallerMemory(module(2048, undefined, 100_000))).byteLength).toBe(66 * PAGE);
    // A memory that can't grow keeps every page, as does one already smaller than the need.
    const fixed = module(2048, 2048, 100_000);
    expect(withSmallerMemory(fixed).equals(fixed)).toBe(true);
    const small = module(8, 16384, 100_000);
    expect(withSmallerMemory(small).equals(small)).toBe(true);
    // Data whose address only the code knows: what it needs can't be read, so it keeps what it declared.
    const passive = module(2048, 16384, 100_000, "passive");
    expect(withSmallerMemory(passive).equals(passive)).toBe(true);
  });

  describe("as built", () => {
    let wasm: Buffer;
    beforeAll(async () => {
      const wasmFile = path.join(path.dirname(await compiledCli(path.resolve(import.meta.dirname, ".."))), "libpg-query.wasm");
      wasm = readFileSync(wasmFile);
      // As the CLI loads it.
      await parserReady({ wasmFile });
    }, 120_000);

    it("starts below the 64 MB that set off a full collection at every start", () => {
      const m = new WebAssembly.Module(new Uint8Array(wasm));
      const imports: Record<string, Record<string, () => number>> = {};
      for (const i of WebAssembly.Module.imports(m)) (imports[i.module] ??= {})[i.name] = () => 0;
      const instance = new WebAssembly.Instance(m, imports);
      const memory = Object.values(instance.exports).find((e): e is WebAssembly.Memory => e instanceof WebAssembly.Memory)!;
      expect(memory.buffer.byteLength).toBeLessThan(64 * 1024 * 1024);
    });

    it("grows as a statement's parse needs: a statement whose tree takes more than the memory starts with parses whole", () => {
      const items = 300_000;
      const tree = parseSync(`SELECT ${"1,".repeat(items)}1`);
      expect(tree.stmts?.[0].stmt).toHaveProperty("SelectStmt.targetList.length", items + 1);
    });
  });
});
