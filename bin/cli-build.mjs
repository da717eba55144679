// The CLI runs JavaScript compiled from lib/ (esbuild: one bundle per command, pg, zod and the parser's
// loader inside it, the parser's WebAssembly copied beside it), rebuilt whenever a source or an installed
// package differs from what the bundle was built from (bin/cli-load.cjs decides, and runs it). Plain
// JavaScript, so starting the CLI never compiles TypeScript unless a source has changed.
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

/**
 * The parser's loader finds its WebAssembly beside the script it runs in, which once bundled is the
 * bundle: copies the .wasm of the very loader esbuild bundled (from its metafile) into `outDir`.
 */
export function copyParserWasm(metafile, outDir) {
  const loader = Object.keys(metafile.inputs).find((input) => input.endsWith("libpg-query/wasm/libpg-query.js"));
  if (loader) copyFileSync(path.join(path.dirname(path.resolve(loader)), "libpg-query.wasm"), path.join(outDir, "libpg-query.wasm"));
}

/** The worker thread a long lint parses ahead in (lib/changeset/parse-ahead.ts): an entry of both CLI builds. */
export const PARSE_WORKER_SOURCE = (root) => path.join(root, "lib", "changeset", "parse-worker.ts");

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
    entryPoints: { main: path.join(root, "lib", "cli", "main.ts"), "parse-worker": PARSE_WORKER_SOURCE(root) },
    ...bundle,
    define: { ...bundle.define, INDEXDECK_PARSE_WORKER: JSON.stringify("parse-worker.cjs") },
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
