import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
// @ts-expect-error: plain JavaScript, without declarations
import { compiledCli, sourceDigest } from "./cli-build.mjs";

async function project(version: string): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), "cli-build-"));
  await mkdir(path.join(root, "lib", "cli"), { recursive: true });
  await writeFile(path.join(root, "package.json"), "{}");
  await writeFile(path.join(root, "tsconfig.json"), "{}");
  await writeFile(path.join(root, "lib", "version.ts"), `export const VERSION: string = "${version}";\n`);
  await writeFile(
    path.join(root, "lib", "cli", "main.ts"),
    `import { VERSION } from "../version";\nexport async function main(): Promise<string> {\n  return (await import("./late")).late(VERSION);\n}\n`,
  );
  await writeFile(path.join(root, "lib", "cli", "late.ts"), "export const late = (v: string): string => `late ${v}`;\n");
  return root;
}

const run = async (entry: string): Promise<string> => (await import(`${pathToFileURL(entry).href}?${Date.now()}`)).main();

describe("the compiled CLI", () => {
  it("is rebuilt when any source changes, so an edit never runs old code, and reused while none does", async () => {
    const root = await project("one");
    const cache = path.join(root, "cache");
    const first = await compiledCli(root, cache);
    expect(await run(first)).toBe("late one");
    const again = await compiledCli(root, cache);
    expect(again).toBe(first);
    const builtAt = statSync(first).mtimeMs;
    // An edit to a module that main only imports, same length, even within the same millisecond.
    await writeFile(path.join(root, "lib", "version.ts"), `export const VERSION: string = "two";\n`);
    const second = await compiledCli(root, cache);
    expect(second).not.toBe(first);
    expect(await run(second)).toBe("late two");
    expect(statSync(second).mtimeMs).toBeGreaterThanOrEqual(builtAt);
    // A file added to lib counts too; tests don't.
    const digest = sourceDigest(root);
    await writeFile(path.join(root, "lib", "cli", "late.test.ts"), "export {};\n");
    expect(sourceDigest(root)).toBe(digest);
    await writeFile(path.join(root, "lib", "new.ts"), "export {};\n");
    expect(sourceDigest(root)).not.toBe(digest);
  });

  it("is rebuilt when an install changes a package it holds a copy of, though package.json stays the same", async () => {
    const root = await project("one");
    const installed = path.join(root, "node_modules", ".package-lock.json");
    await mkdir(path.dirname(installed), { recursive: true });
    await writeFile(installed, JSON.stringify({ packages: { "node_modules/pg": { version: "8.23.1" } } }));
    const digest = sourceDigest(root);
    await writeFile(installed, JSON.stringify({ packages: { "node_modules/pg": { version: "8.23.2" } } }));
    expect(sourceDigest(root)).not.toBe(digest);
  });

  it("loads, for each command, only the packages it needs: pg and zod nowhere near --help or lint, zod not in a direct apply", async () => {
    const root = path.resolve(import.meta.dirname, "..");
    const dir = path.dirname(await compiledCli(root));
    /** The packages a module and everything it imports statically (not `import()`) bring in: bundled or left outside. */
    const packagesOf = (start: string): Set<string> => {
      const found = new Set<string>();
      const seen = new Set<string>();
      const visit = (file: string) => {
        if (seen.has(file)) return;
        seen.add(file);
        const text = readFileSync(path.join(dir, file), "utf8");
        for (const m of text.matchAll(/^\/\/ node_modules\/((?:@[^/]+\/)?[^/]+)\//gm)) found.add(m[1]);
        for (const m of text.matchAll(/^(?:import|export)\b[^;]*?(?:from\s*)?"([^"]+)";/gms)) {
          if (m[1].startsWith("./")) visit(m[1].slice(2));
          else if (!m[1].startsWith("node:")) found.add(m[1].split("/")[0]);
        }
      };
      visit(start);
      return found;
    };
    const chunk = (prefix: string) => readdirSync(dir).find((f) => f.startsWith(prefix))!;
    expect([...packagesOf("main.mjs")]).toEqual([]);
    expect([...packagesOf(chunk("lint-"))]).toEqual(["libpg-query"]);
    const direct = packagesOf(chunk("phase-commands-"));
    expect(direct.has("pg")).toBe(true);
    expect(direct.has("libpg-query")).toBe(true);
    expect(direct.has("zod")).toBe(false);
    // The store's commands do validate: zod is there, so the search above can see it.
    expect(packagesOf(chunk("users-")).has("zod")).toBe(true);
  });
});
