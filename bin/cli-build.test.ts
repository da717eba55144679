import { execFileSync, spawnSync } from "node:child_process";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
// @ts-expect-error: plain JavaScript, without declarations
import { buildCli } from "./cli-build.mjs";
// @ts-expect-error: plain JavaScript, without declarations
import { compiledCli, sourceDigest } from "./cli-load.cjs";

async function project(version: string): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), "cli-build-"));
  await mkdir(path.join(root, "lib", "cli"), { recursive: true });
  await writeFile(path.join(root, "package.json"), "{}");
  await writeFile(path.join(root, "tsconfig.json"), "{}");
  await writeFile(path.join(root, "lib", "version.ts"), `export const VERSION: string = "${version}";\n`);
  await writeFile(
    path.join(root, "lib", "cli", "main.ts"),
    [
      `import v8 from "node:v8";`,
      `import { VERSION } from "../version";`,
      // As the real CLI does with the parser's tier: a V8 flag set as it runs, before a module loads.
      `let flags = "--no-liftoff-only --wasm-tier-up --wasm-dynamic-tiering";`,
      `export const parserTierFlags = (): string => flags;`,
      `export async function main(): Promise<string> {`,
      `  if (process.env.TIER !== "default") flags = "--liftoff-only";`,
      `  v8.setFlagsFromString(flags);`,
      `  return (await import("./late")).late(VERSION);`,
      `}`,
    ].join("\n"),
  );
  await writeFile(path.join(root, "lib", "cli", "late.ts"), "export const late = (v: string): string => `late ${v}`;\n");
  // Every build has the parse-ahead worker as its second entry.
  await mkdir(path.join(root, "lib", "changeset"));
  await writeFile(path.join(root, "lib", "changeset", "parse-worker.ts"), "export {};\n");
  return root;
}

/** The compiled entry run as bin/indexdeck.cjs runs it, in a process of its own (its code caches are written at exit). */
const runner = (entry: string): string =>
  `const { loadCli } = await import(${JSON.stringify(pathToFileURL(path.join(import.meta.dirname, "cli-load.cjs")).href)});
   process.stdout.write(await loadCli(${JSON.stringify(entry)}).main());`;
const run = (entry: string, tier = "baseline"): string =>
  execFileSync(process.execPath, ["--input-type=module", "-e", runner(entry)], { encoding: "utf8", env: { ...process.env, TIER: tier } });

describe("the compiled CLI", () => {
  it("is rebuilt when any source changes, so an edit never runs old code, and reused while none does", async () => {
    const root = await project("one");
    const cache = path.join(root, "cache");
    const first = await compiledCli(root, cache);
    expect(run(first)).toBe("late one");
    const again = await compiledCli(root, cache);
    expect(again).toBe(first);
    const builtAt = statSync(first).mtimeMs;
    // An edit to a module that main only imports, same length, even within the same millisecond.
    await writeFile(path.join(root, "lib", "version.ts"), `export const VERSION: string = "two";\n`);
    const second = await compiledCli(root, cache);
    expect(second).not.toBe(first);
    expect(run(second)).toBe("late two");
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

  it("starts from the code cache its first run left, under the flags each file was compiled with, and runs without a damaged one", async () => {
    const root = await project("one");
    const entry = await compiledCli(root, path.join(root, "cache"));
    const caches = path.join(path.dirname(entry), "code-cache");
    expect(run(entry)).toBe("late one");
    const written = () => Object.fromEntries(readdirSync(caches).map((f) => [f, statSync(path.join(caches, f)).mtimeMs]));
    const first = written();
    // main.cjs and what it imports were compiled before the flag was set; the late chunk after.
    expect(Object.keys(first)).toContain("main.cjs");
    expect(Object.keys(first).some((f) => f.startsWith("late-"))).toBe(true);
    // A cache V8 accepts is not written again; one it refused would be.
    expect(run(entry)).toBe("late one");
    expect(written()).toEqual(first);
    // A run in the other tier keeps a cache of its own for what it compiled after setting its flags.
    expect(run(entry, "default")).toBe("late one");
    const both = written();
    expect(Object.keys(both).filter((f) => f.startsWith("late-"))).toHaveLength(2);
    expect(run(entry)).toBe("late one");
    expect(run(entry, "default")).toBe("late one");
    expect(written()).toEqual(both);
    writeFileSync(path.join(caches, "main.cjs"), "not a code cache");
    expect(run(entry)).toBe("late one");
    expect(readFileSync(path.join(caches, "main.cjs"), "utf8")).not.toBe("not a code cache");
    // V8 knows code only by its length, and reads a damaged cache as it is: each cache is sealed with a digest of both.
    const late = readdirSync(path.dirname(entry)).find((f) => f.startsWith("late-"))!;
    const lateFile = path.join(path.dirname(entry), late);
    writeFileSync(lateFile, readFileSync(lateFile, "utf8").replace("`late ${", "`LATE ${"));
    expect(run(entry)).toBe("LATE one");
    const lateCache = path.join(
      caches,
      readdirSync(caches).find((f) => f.startsWith(`${late}.`) && statSync(path.join(caches, f)).mtimeMs > both[f])!,
    );
    const damaged = readFileSync(lateCache);
    damaged[damaged.length >> 1] ^= 0xff;
    writeFileSync(lateCache, damaged);
    expect(run(entry)).toBe("LATE one");
    expect(readFileSync(lateCache).equals(damaged)).toBe(false);
  });

  it("replaces a directory of the same sources that holds no build, clears what killed starts left, runs where no cache can be written, and answers a second require of a file that failed with its error", async () => {
    const root = await project("one");
    await writeFile(
      path.join(root, "lib", "cli", "late.ts"),
      'throw new Error("late broke");\nexport const late = (v: string): string => v;\n',
    );
    await writeFile(
      path.join(root, "lib", "cli", "main.ts"),
      [
        `export const parserTierFlags = (): string => "";`,
        `export async function main(): Promise<string> {`,
        `  const tries = [];`,
        `  for (let i = 0; i < 2; i++) tries.push(await import("./late").then((m) => m.late("loaded"), (err: Error) => err.message));`,
        `  return tries.join(", ");`,
        `}`,
      ].join("\n"),
    );
    const cache = path.join(root, "cache");
    // What a CLI of an older build leaves at exit if its directory was deleted under it, before this fix.
    await mkdir(path.join(cache, sourceDigest(root).slice(0, 16), "code-cache"), { recursive: true });
    // What a start killed while cleaning up, or while building, leaves; and another CLI's build in progress.
    for (const name of ["0123456789abcdef", "0123456789abcdef.77.gone", "fedcba9876543210.77.tmp", "aaaaaaaaaaaaaaaa.78.tmp"]) {
      await mkdir(path.join(cache, name), { recursive: true });
      await writeFile(path.join(cache, name, "main.cjs"), "");
    }
    const longAgo = new Date(Date.now() - 60 * 60 * 1000);
    utimesSync(path.join(cache, "fedcba9876543210.77.tmp"), longAgo, longAgo);
    const entry = await compiledCli(root, cache);
    expect(run(entry)).toBe("late broke, late broke");
    expect(readdirSync(cache).sort()).toEqual([path.basename(path.dirname(entry)), "aaaaaaaaaaaaaaaa.78.tmp"].sort());
    // Where no cache can be written, the CLI runs without one and says nothing of it.
    rmSync(path.join(path.dirname(entry), "code-cache"), { recursive: true, force: true });
    writeFileSync(path.join(path.dirname(entry), "code-cache"), "");
    const started = spawnSync(process.execPath, ["--input-type=module", "-e", runner(entry)], { encoding: "utf8" });
    expect(started).toMatchObject({ status: 0, stdout: "late broke, late broke", stderr: "" });
  });

  it("loads, for each command, only the packages it needs: pg and zod nowhere near --help or lint, zod not in a direct apply", async () => {
    const root = path.resolve(import.meta.dirname, "..");
    const dir = await mkdtemp(path.join(tmpdir(), "cli-build-graph-"));
    const { outputs } = (await buildCli(root, dir)) as {
      outputs: Record<string, { inputs: Record<string, unknown>; imports: Array<{ path: string; kind: string; external?: boolean }> }>;
    };
    const byName = new Map(Object.keys(outputs).map((key) => [path.basename(key), outputs[key]]));
    /** The packages a file and everything it imports statically (not `import()`) bring in: bundled or left outside. */
    const packagesOf = (start: string): Set<string> => {
      const found = new Set<string>();
      const seen = new Set<string>();
      const visit = (name: string) => {
        if (seen.has(name)) return;
        seen.add(name);
        const output = byName.get(name)!;
        for (const input of Object.keys(output.inputs)) {
          const bundled = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
          if (bundled) found.add(bundled[1]);
        }
        for (const imported of output.imports) {
          if (imported.kind !== "import-statement") continue;
          if (!imported.external) visit(path.basename(imported.path));
          else if (!imported.path.startsWith("node:")) found.add(imported.path.split("/")[0]);
        }
      };
      visit(start);
      return found;
    };
    const chunk = (prefix: string) => [...byName.keys()].find((f) => f.startsWith(prefix))!;
    expect([...packagesOf("main.cjs")]).toEqual([]);
    expect([...packagesOf(chunk("lint-"))]).toEqual(["libpg-query"]);
    const direct = packagesOf(chunk("phase-commands-"));
    expect(direct.has("pg")).toBe(true);
    expect(direct.has("libpg-query")).toBe(true);
    expect(direct.has("zod")).toBe(false);
    // The store's commands do validate: zod is there, so the search above can see it.
    expect(packagesOf(chunk("users-")).has("zod")).toBe(true);
    // What the files say they load is what they do: the CommonJS each became requires the same chunks.
    const mainText = readFileSync(path.join(dir, "main.cjs"), "utf8");
    for (const imported of byName.get("main.cjs")!.imports.filter((i) => i.kind === "import-statement" && !i.external))
      expect(mainText).toMatch(
        new RegExp(`^var \\w+ = (__toESM\\()?require\\("\\./${path.basename(imported.path).replace(".", "\\.")}"\\)`, "m"),
      );
  });
});
