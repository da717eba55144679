"use strict";
// Starts the compiled CLI (bin/cli-build.mjs builds it): the digest of its sources, the build that matches
// them, and each compiled file run with its V8 code cache. CommonJS, as is bin/indexdeck.cjs: Node 20
// starts a CommonJS entry ~20 ms sooner than an ES module, and this runs before every command.
const { createHash } = require("node:crypto");
const { createRequire } = require("node:module");
const { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } = require("node:fs");
const path = require("node:path");
const { pathToFileURL } = require("node:url");
const v8 = require("node:v8");
const vm = require("node:vm");

/** Where the build's options live, loaded only to build. */
const BUILD = path.join(__dirname, "cli-build.mjs");

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
function sourceDigest(root) {
  // The CLI's own build and load code too: the build's options are there, and a change to them must rebuild.
  const hash = createHash("sha256");
  for (const own of [BUILD, __filename])
    hash
      .update(`${path.basename(own)}\0`)
      .update(readFileSync(own))
      .update("\0");
  for (const file of sources(root))
    hash
      .update(`${file}\0`)
      .update(readFileSync(path.join(root, file)))
      .update("\0");
  return hash.digest("hex");
}

/** A build directory this old that is still named `.tmp` belongs to a CLI that died building it. */
const STALE_BUILD_MS = 10 * 60 * 1000;

/**
 * The compiled CLI's entry for the sources in `root`, built first when none matches them. The build
 * goes to a fresh directory renamed into place, so two CLIs starting at once never see half of one.
 */
async function compiledCli(root, cacheDir = path.join(root, "node_modules", ".cache", "indexdeck-cli")) {
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
  await (await import(pathToFileURL(BUILD).href)).buildCli(root, tmp);
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
function loadCli(entry) {
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

module.exports = { compiledCli, loadCli, sourceDigest };
