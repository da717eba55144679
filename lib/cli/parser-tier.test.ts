import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { sqlBytes } from "./parser-tier";

describe("the SQL a command will parse, sized before the parser loads", () => {
  it("sums the files, counts a directory as large, and skips option values and missing paths", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "parser-tier-"));
    await writeFile(path.join(dir, "a.sql"), "x".repeat(100));
    await writeFile(path.join(dir, "b.sql"), "x".repeat(50));
    expect(sqlBytes([path.join(dir, "a.sql"), "--format", "json", path.join(dir, "b.sql"), undefined])).toBe(150);
    expect(sqlBytes([path.join(dir, "missing.sql")])).toBe(0);
    expect(sqlBytes([dir])).toBe(Infinity);
  });
});
