// The CLI runs JavaScript compiled from lib/ (esbuild: one bundle per command, pg, zod and the parser's
// loader inside it, the parser's WebAssembly copied beside it), rebuilt whenever a source or an installed
// package differs from what the bundle was built from. Plain JavaScript, so starting the CLI never
// compiles TypeScript unless a source has changed.
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import vm from "node:vm";

/** npm's lockfile of what is installed in node_modules, rewritten by every install. */
const INSTALLED = path.join("node_modules", ".package-lock.json");

/**
 * Every file the bundle is built from: lib's sources (tests aside), what decides how they compile, and
 * npm's record of the installed packages (the bundle holds copies of some: an `npm ci` that changes one
 * must rebuild, though package.json stays the same).
 */
function sources(root) {
  const files = ["package.json", "tsconfig.json"];
  if (existsSync(path.join(root, INSTALLED))) files.push(INSTALLED);
  const walk = (dir) => {
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (/\.(ts|mjs|cjs|js|json|sql)$/.test(entry.name) && !/\.test\.ts$/.test(entry.name)) files.push(rel);
    }
  };
  walk("lib");
  return files.sort();
}

/** A digest of the sources' names and contents: any edit, added or removed file changes it. */
export function sourceDigest(root) {
  // This file's own text too: it holds the build's options, and a change to them must rebuild.
  const hash = createHash("sha256").update(readFileSync(fileURLToPath(import.meta.url)));
  for (const file of sources(root))
    hash
      .update(`${file}\0`)
      .update(readFileSync(path.join(root, file)))
      .update("\0");
  return hash.digest("hex");
}

/**
 * The parser's loader finds its WebAssembly beside the script it runs in, which once bundled is the
 * bundle: copies the .wasm of the very loader esbuild bundled (from its metafile) into `outDir`.
 */
export function copyParserWasm(metafile, outDir) {
  const loader = Object.keys(metafile.inputs).find((input) => input.endsWith("libpg-query/wasm/libpg-query.js"));
  if (loader) copyFileSync(path.join(path.dirname(path.resolve(loader)), "libpg-query.wasm"), path.join(outDir, "libpg-query.wasm"));
}

/** How both CLI builds (this one, and the package of bin/cli-pack.mjs) bundle lib for Node. */
export const NODE_BUNDLE = {
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // Node 20 has no navigator, so pg probes for Cloudflare by making a fetch Response, which loads
  // Node's whole fetch implementation (60 ms of every start); Node 21 and later answer like this.
  define: { navigator: '{"userAgent":"Node.js"}' },
  // Bundled CommonJS (pg, the parser's loader) still uses require and __dirname, which ESM has not.
  banner: {
    js: [
      "import { createRequire as __cr } from 'node:module'; import { fileURLToPath as __fu } from 'node:url';",
      "const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __fu(new URL('.', import.meta.url));",
    ].join("\n"),
  },
  outExtension: { ".js": ".mjs" },
  metafile: true,
  logLevel: "error",
};

/**
 * Builds the CLI from `root`'s lib into `outDir`: split per command as ES modules, then each file
 * turned into CommonJS (Node 20 keeps no code cache for ES modules; `loadCli` hands V8 one for each
 * of these files). Returns esbuild's metafile: what each file holds and imports.
 */
export async function buildCli(root, outDir) {
  const { build, transform } = await import("esbuild");
  // CommonJS has require and __dirname of its own: the ES modules' banner is not wanted here.
  const bundle = { ...NODE_BUNDLE, banner: undefined };
  const { metafile, outputFiles } = await build({
    entryPoints: { main: path.join(root, "lib", "cli", "main.ts") },
    ...bundle,
    outExtension: { ".js": ".cjs" },
    // pg and zod inside the bundle: loading them file by file was a third of an apply's start-up. So is
    // the parser's loader: imported from node_modules, Node scanned its CommonJS for exports (~20 ms).
    external: ["hdr-histogram-js", "esbuild", "pg-native"],
    outdir: outDir,
    write: false,
  });
  mkdirSync(outDir, { recursive: true });
  for (const file of outputFiles) {
    // A chunk's import() becomes a require inside a promise, which loadCli answers from this directory.
    const { code } = await transform(file.text, {
      format: "cjs",
      platform: "node",
      target: "node20",
      supported: { "dynamic-import": false },
    });
    writeFileSync(file.path, code);
  }
  copyParserWasm(metafile, outDir);
  return metafile;
}

/** A build directory this old that is still named `.tmp` belongs to a CLI that died building it. */
const STALE_BUILD_MS = 10 * 60 * 1000;

/**
 * The compiled CLI's entry for the sources in `root`, built first when none matches them. The build
 * goes to a fresh directory renamed into place, so two CLIs starting at once never see half of one.
 */
export async function compiledCli(root, cacheDir = path.join(root, "node_modules", ".cache", "indexdeck-cli")) {
  const digest = sourceDigest(root);
  const dir = path.join(cacheDir, digest.slice(0, 16));
  const entry = path.join(dir, "main.cjs");
  try {
    statSync(entry);
    return entry;
  } catch {
    // not built yet for these sources
  }
  const tmp = `${dir}.${process.pid}.tmp`;
  await buildCli(root, tmp);
  mkdirSync(cacheDir, { recursive: true });
  try {
    renameSync(tmp, dir);
  } catch {
    if (existsSync(entry)) {
      // another CLI built the same sources first: theirs is as good as ours
      rmSync(tmp, { recursive: true, force: true });
    } else {
      // a directory of these sources without a build in it (none should be left, but one must not stop every start)
      rmSync(dir, { recursive: true, force: true });
      renameSync(tmp, dir);
    }
  }
  for (const old of readdirSync(cacheDir)) {
    const at = path.join(cacheDir, old);
    if (old === path.basename(dir)) continue;
    // Another CLI's build in progress is left alone; one that was killed (builds take seconds) is not.
    if (old.endsWith(".tmp") && Date.now() - statSync(at, { throwIfNoEntry: false })?.mtimeMs < STALE_BUILD_MS) continue;
    // Moved away first, then deleted: a start killed midway leaves a ".gone" directory, never an old build
    // that still has its main.cjs and lacks some of its chunks.
    const gone = old.endsWith(".gone") || old.endsWith(".tmp") ? at : `${at}.${process.pid}.gone`;
    try {
      if (gone !== at) renameSync(at, gone);
      rmSync(gone, { recursive: true, force: true });
    } catch {
      // another CLI is cleaning up too
    }
  }
  writeFileSync(path.join(dir, "digest"), digest);
  return entry;
}

/**
 * Where a compiled file's V8 code cache is kept: beside the build, so a rebuild starts without; one per
 * set of flags it was compiled under (none named: those a start begins with), so runs in the parser's
 * two tiers each keep theirs instead of refusing and rewriting each other's.
 */
const codeCacheOf = (file, flags) =>
  path.join(
    path.dirname(file),
    "code-cache",
    flags === undefined ? path.basename(file) : `${path.basename(file)}.${createHash("sha256").update(flags).digest("hex").slice(0, 8)}`,
  );

/** A compiled file as V8 runs it: CommonJS's wrapper, strict as the ES modules it was built from. */
const wrapped = (file) => `(function (exports, require, module, __filename, __dirname) {"use strict";${readFileSync(file, "utf8")}\n})`;

/**
 * The seal a code cache is stored under: a digest of the code and of the cache. V8 itself checks a
 * cache's header and the code's length only, so a damaged cache, or one of other code of the same
 * length, would run as if it were the code (a crash, a hang, or old code).
 */
const seal = (code, cache) => createHash("sha256").update(code).update(cache).digest();
const SEAL_BYTES = 32;

/**
 * Runs the compiled CLI's `entry` and returns its exports. Each file it loads is compiled with the
 * V8 code cache an earlier run left (a direct apply starts ~45 ms sooner); a file that had none, or
 * whose cache was refused (unsealed, damaged, made by another Node), leaves one at exit, made after
 * the run so it holds the functions the command used. V8 checks a cache against the flags it compiles
 * under, and the CLI sets some as it runs (the parser's tier): each file's cache is made, and kept, under that file's.
 */
export function loadCli(entry) {
  const dir = path.dirname(entry);
  const outside = createRequire(entry);
  const loaded = new Map();
  const uncached = [];
  let cli = null;
  const load = (file) => {
    const known = loaded.get(file);
    if (known) return known.exports;
    const compiled = { exports: {} };
    loaded.set(file, compiled);
    try {
      const code = wrapped(file);
      const flags = cli?.parserTierFlags();
      const target = codeCacheOf(file, flags);
      let cachedData;
      try {
        const stored = readFileSync(target);
        const cache = stored.subarray(SEAL_BYTES);
        if (stored.length > SEAL_BYTES && seal(code, cache).equals(stored.subarray(0, SEAL_BYTES))) cachedData = cache;
      } catch {
        // first run of this build, or of this file
      }
      const script = new vm.Script(code, { filename: file, cachedData });
      const local = (specifier) => (specifier.startsWith("./") ? load(path.join(dir, specifier)) : outside(specifier));
      script.runInThisContext().call(compiled.exports, compiled.exports, local, compiled, file, dir);
      if (!cachedData || script.cachedDataRejected) uncached.push({ target, code, script, flags });
      return compiled.exports;
    } catch (err) {
      // As Node's require does: a file that failed to load is not handed, half made, to the next require.
      loaded.delete(file);
      throw err;
    }
  };
  process.once("exit", () => {
    for (const { target, code, script, flags } of uncached) {
      const partial = `${target}.${process.pid}`;
      try {
        // The entry and what it imports were compiled before it could say: under the flags it starts with.
        v8.setFlagsFromString(flags ?? startFlags);
        // Never recursive: a build deleted meanwhile (a newer one replaced it) gets no directory back.
        if (!existsSync(path.dirname(target))) mkdirSync(path.dirname(target));
        const cache = script.createCachedData();
        // Renamed into place: a CLI starting meanwhile reads the old cache or the new, never half of one.
        writeFileSync(partial, Buffer.concat([seal(code, cache), cache]));
        renameSync(partial, target);
      } catch {
        // a read-only install, a full disk or a build deleted meanwhile: that file starts without a cache
        try {
          rmSync(partial, { force: true });
        } catch {
          // nothing was written there either
        }
      }
    }
  });
  cli = load(entry);
  const startFlags = cli.parserTierFlags();
  return cli;
}
