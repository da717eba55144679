// The CLI runs JavaScript compiled from lib/ (esbuild: one bundle per command, pg, zod and the parser's
// loader inside it, the parser's WebAssembly copied beside it), rebuilt whenever a source or an installed
// package differs from what the bundle was built from (bin/cli-load.cjs decides, and runs it). Plain
// JavaScript, so starting the CLI never compiles TypeScript unless a source has changed.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

/**
 * The parser's loader finds its WebAssembly beside the script it runs in, which once bundled is the
 * bundle: copies the .wasm of the very loader esbuild bundled (from its metafile) into `outDir`.
 */
export function copyParserWasm(metafile, outDir) {
  const loader = Object.keys(metafile.inputs).find((input) => input.endsWith("libpg-query/wasm/libpg-query.js"));
  if (!loader) return;
  const wasm = readFileSync(path.join(path.dirname(path.resolve(loader)), "libpg-query.wasm"));
  writeFileSync(path.join(outDir, "libpg-query.wasm"), withSmallerMemory(wasm));
}

/** Room for the heap above the module's stack: a small change set parses without growing the memory. */
const HEAP_HEADROOM = 4 * 1024 * 1024;
const WASM_PAGE = 64 * 1024;

/**
 * The parser's module with its memory starting at what its static data and stack take plus
 * HEAP_HEADROOM, instead of the 128 MB it declares. V8 counts a memory's size as the process's
 * external memory, and 128 MB at once set off a scavenge and a full collection in every CLI run
 * (~9 ms of each start, with the command's modules live). The module's memory grows as its heap
 * needs (Emscripten's malloc grows it, up to the declared maximum), so only a module that may grow
 * (a maximum above its minimum, or none) is changed, and never to more than it declared.
 */
export function withSmallerMemory(wasm) {
  try {
    const sections = wasmSections(wasm);
    const memory = sections.find((s) => s.id === MEMORY_SECTION);
    if (!memory) return wasm;
    const r = reader(wasm, memory.start);
    if (r.u32() !== 1) return wasm;
    const limitsAt = r.at;
    const flags = r.u32();
    const min = r.u32();
    const max = flags & 1 ? r.u32() : undefined;
    // A memory that can't grow needs every page it declares: malloc has no other.
    if (flags & ~1 || (max !== undefined && max <= min)) return wasm;
    const staticTop = Math.max(dataEnd(wasm, sections), highestGlobalAddress(wasm, sections));
    const pages = Math.ceil((staticTop + HEAP_HEADROOM) / WASM_PAGE);
    if (pages >= min) return wasm;
    const limits = [...leb(flags), ...leb(pages), ...(max === undefined ? [] : leb(max))];
    const content = Buffer.concat([wasm.subarray(memory.start, limitsAt), Buffer.from(limits), wasm.subarray(r.at, memory.end)]);
    return Buffer.concat([
      wasm.subarray(0, memory.headerAt),
      Buffer.from([MEMORY_SECTION, ...leb(content.length)]),
      content,
      wasm.subarray(memory.end),
    ]);
  } catch (err) {
    if (!(err instanceof UnknownLayout)) throw err;
    // what the module's static layout is can't be read here: it keeps the memory it declared
    return wasm;
  }
}

/** A module whose static data or globals are laid out otherwise than this reads (see withSmallerMemory). */
class UnknownLayout extends Error {}

const GLOBAL_SECTION = 6;
const MEMORY_SECTION = 5;
const DATA_SECTION = 11;
const I32 = 0x7f;
const I32_CONST = 0x41;
const END = 0x0b;

/** The binary's sections: id, where its header and content start, where it ends. */
function wasmSections(wasm) {
  const sections = [];
  const r = reader(wasm, 8);
  while (r.at < wasm.length) {
    const headerAt = r.at;
    const id = wasm[r.at++];
    const size = r.u32();
    sections.push({ id, headerAt, start: r.at, end: r.at + size });
    r.at += size;
  }
  return sections;
}

/** The highest of what `entryTop` reads of each entry of section `id` (0 where there is none). */
function highestOf(wasm, sections, id, entryTop) {
  const section = sections.find((s) => s.id === id);
  if (!section) return 0;
  const r = reader(wasm, section.start);
  let top = 0;
  for (let n = r.u32(); n > 0; n--) top = Math.max(top, entryTop(r));
  return top;
}

/** The end of the highest active data segment: the module's static data. */
function dataEnd(wasm, sections) {
  return highestOf(wasm, sections, DATA_SECTION, (r) => {
    const kind = r.u32();
    // A passive segment is copied where the code says, at run time.
    if (kind === 1) throw new UnknownLayout();
    if (kind === 2) r.u32();
    const offset = r.constI32();
    const size = r.u32();
    r.at += size;
    return offset + size;
  });
}

/**
 * The highest address a mutable i32 global starts at: Emscripten's stack pointer is one, and its
 * stack lies below it. Any such global is counted, so the memory covers whichever is the stack's;
 * a global set otherwise than by a constant could point anywhere.
 */
function highestGlobalAddress(wasm, sections) {
  return highestOf(wasm, sections, GLOBAL_SECTION, (r) => {
    const type = wasm[r.at++];
    const mutable = wasm[r.at++];
    const value = r.constI32();
    return type === I32 && mutable ? value >>> 0 : 0;
  });
}

/** LEB128 reading over a binary from `at`. */
function reader(b, at) {
  const r = {
    at,
    /** A LEB128 number read as unsigned, with its width in bits and its last byte (a signed one's sign is there). */
    leb128() {
      let value = 0;
      let bits = 0;
      let byte;
      do {
        byte = b[r.at++];
        value += (byte & 0x7f) * 2 ** bits;
        bits += 7;
      } while (byte & 0x80);
      return { value, bits, byte };
    },
    u32: () => r.leb128().value,
    /** An `i32.const N; end` expression's N. */
    constI32() {
      if (b[r.at++] !== I32_CONST) throw new UnknownLayout();
      const { value, bits, byte } = r.leb128();
      if (b[r.at++] !== END) throw new UnknownLayout();
      return byte & 0x40 ? value - 2 ** bits : value;
    },
  };
  return r;
}

function leb(n) {
  const out = [];
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return out;
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
