/**
 * PostgreSQL's parser (libpg-query's WebAssembly), one instance for all of lib/. It is bound here
 * rather than through the package's index because the index hands back every parse as one JSON text,
 * decoded and parsed whole: most of a long file's statements need no more than their kind and
 * position, and their trees were most of the linter's time and garbage (`parseBytes`).
 */
import { readFile } from "node:fs/promises";
import PgQueryModule, { type PgQueryWasm } from "libpg-query/wasm/libpg-query.js";
import type { Node, ParseResult, ScanResult, SqlErrorDetails } from "libpg-query";

let wasm: PgQueryWasm | null = null;
let ready: Promise<void> | null = null;
let compiledModule: WebAssembly.Module | null = null;

/**
 * Compiles the WASM once per process (or thread); every entry point awaits this first. The first call
 * decides how: by default libpg-query finds and compiles its .wasm itself. Given the .wasm's file, this
 * compiles it and keeps the module (`parserModule`), so another thread can run the same compiled code;
 * given such a module, this instantiates it without compiling again.
 */
export function parserReady(from?: { wasmFile: string } | { module: WebAssembly.Module }): Promise<void> {
  if (!ready) {
    const compiling =
      from && ("wasmFile" in from ? readFile(from.wasmFile).then((bytes) => WebAssembly.compile(bytes)) : Promise.resolve(from.module));
    void compiling?.then(
      (m) => (compiledModule = m),
      () => undefined,
    );
    // Emscripten's hook has no way to fail: a failure to compile or instantiate rejects beside it.
    let fail: (err: unknown) => void = () => undefined;
    const failed = new Promise<never>((_, reject) => (fail = reject));
    const loading = PgQueryModule(
      compiling
        ? {
            instantiateWasm(imports, done) {
              compiling.then((m) => WebAssembly.instantiate(m, imports)).then(done, fail);
              return {};
            },
          }
        : undefined,
    );
    ready = Promise.race([loading, failed]).then((m) => {
      wasm = m;
    });
  }
  return ready;
}

/** The parser's compiled module once it is ready, when this thread was given it or compiled it from its file (see parserReady). */
export function parserModule(): WebAssembly.Module | undefined {
  return wasm ? (compiledModule ?? undefined) : undefined;
}

/** The parser's error, with the same message and byte cursor (0-based) libpg-query's own gives. */
export class SqlError extends Error {
  override name = "SqlError";
  constructor(
    message: string,
    readonly sqlDetails: SqlErrorDetails,
  ) {
    super(message);
  }
}

function loaded(): PgQueryWasm {
  if (!wasm) throw new Error("WASM module not initialized. Call parserReady() first.");
  return wasm;
}

/** Copies UTF-8 bytes into the module's memory with the NUL the C side reads up to. */
function withInput<T>(bytes: Uint8Array, read: (m: PgQueryWasm, ptr: number) => T): T {
  const m = loaded();
  const ptr = m._malloc(bytes.length + 1);
  try {
    m.HEAPU8.set(bytes, ptr);
    m.HEAPU8[ptr + bytes.length] = 0;
    return read(m, ptr);
  } finally {
    m._free(ptr);
  }
}

/** Runs the raw parse and hands its JSON's bytes to `read`, or throws the parser's error. */
function parseRaw<T>(bytes: Uint8Array, read: (heap: Uint8Array, start: number, end: number) => T): T {
  return withInput(bytes, (m, queryPtr) => {
    const result = m._wasm_parse_query_raw(queryPtr);
    if (!result) throw new Error("Failed to parse query: memory allocation failed");
    try {
      const tree = m.getValue(result, "i32");
      const error = m.getValue(result + 8, "i32");
      if (error) {
        const text = (at: number) => {
          const p = m.getValue(error + at, "i32");
          return p ? m.UTF8ToString(p) : undefined;
        };
        const message = text(0) ?? "Unknown error";
        const line = m.getValue(error + 12, "i32");
        const cursor = m.getValue(error + 16, "i32");
        throw new SqlError(message, {
          message,
          cursorPosition: cursor > 0 ? cursor - 1 : 0,
          fileName: text(8),
          functionName: text(4),
          lineNumber: line > 0 ? line : undefined,
        });
      }
      if (!tree) throw new Error("No parse tree generated");
      const heap = m.HEAPU8;
      // Buffer's indexOf is memchr; a Uint8Array's walks the bytes (8× slower over tens of MB of JSON).
      return read(heap, tree, Buffer.from(heap.buffer, heap.byteOffset, heap.byteLength).indexOf(0, tree));
    } finally {
      m._wasm_free_parse_result(result);
    }
  });
}

const utf8 = new TextDecoder();
const encoder = new TextEncoder();

function emptyCheck(query: string): void {
  if (query === null || query === undefined) throw new Error("Query cannot be null or undefined");
  if (query === "") throw new Error("Query cannot be empty");
}

/** libpg-query's parseSync: the whole tree of `query`; throws SqlError on bad SQL. */
export function parseSync(query: string): ParseResult {
  emptyCheck(query);
  return parseRaw(encoder.encode(query), (heap, start, end) => JSON.parse(utf8.decode(heap.subarray(start, end))) as ParseResult);
}

/** libpg-query's scanSync: PostgreSQL's scanner's tokens of `query`. */
export function scanSync(query: string): ScanResult {
  return withInput(encoder.encode(query), (m, queryPtr) => {
    const result = m._wasm_scan(queryPtr);
    try {
      const text = m.UTF8ToString(result);
      // The scanner answers a JSON object, or the text of its error.
      if (m.HEAPU8[result] !== OPEN_BRACE) throw new Error(text);
      return JSON.parse(text) as ScanResult;
    } finally {
      if (result) m._wasm_free_string(result);
    }
  });
}

/** One statement of a parse: its kind (the tree's node name) and, when asked for, its tree. */
export interface RawStatement<T> {
  kind: string;
  /** Byte offset in what was parsed; 0 when the parser leaves it out. */
  location: number;
  /** Bytes of the statement, undefined for a last one that runs to the end without a `;`. */
  length: number | undefined;
  tree: T | undefined;
}

export type ParsedRaw = RawStatement<Node>;

export type WantTree = (kind: string, location: number, length: number | undefined) => boolean;

/**
 * Parses UTF-8 SQL and reads its JSON in the module's memory without decoding it: each statement's
 * kind, location and length, and only the trees `wantTree` asks for are decoded. Empty statements
 * (a lone `;`) are left out, as they have no tree. Throws SqlError on bad SQL.
 */
export function parseBytes(bytes: Uint8Array, wantTree: WantTree): ParsedRaw[] {
  return readStatements(bytes, wantTree, (json) => JSON.parse(utf8.decode(json)) as Node);
}

/** parseBytes, with each tree asked for left as its JSON text: what a thread hands to another (parse-ahead.ts). */
export function parseBytesToJson(bytes: Uint8Array, wantTree: WantTree): Array<RawStatement<string>> {
  return readStatements(bytes, wantTree, (json) => utf8.decode(json));
}

function readStatements<T>(bytes: Uint8Array, wantTree: WantTree, decode: (json: Uint8Array) => T): Array<RawStatement<T>> {
  return parseRaw(bytes, (b, start, end) => {
    const out: Array<RawStatement<T>> = [];
    // Up to the JSON's end: a key that is not there must not send the search through the rest of the heap.
    const search = Buffer.from(b.buffer, b.byteOffset, end);
    // {"version":N,"stmts":[{"stmt":{"Kind":{…}},"stmt_location":N,"stmt_len":N},…]}
    let i = expect(b, start, OPEN_BRACE);
    while (b[i] !== CLOSE_BRACE) {
      const key = i + 1;
      i = expect(b, skipString(b, i), COLON);
      if (!isKey(b, key, "stmts")) {
        i = skipValue(b, i);
      } else {
        i = expect(b, i, OPEN_BRACKET);
        while (b[i] !== CLOSE_BRACKET) {
          i = expect(b, i, OPEN_BRACE);
          let [kind, from, to, location] = ["", -1, -1, 0];
          let length: number | undefined;
          while (b[i] !== CLOSE_BRACE) {
            const field = i + 1;
            i = expect(b, skipString(b, i), COLON);
            if (isKey(b, field, "stmt")) {
              from = i;
              const name = i + 1;
              if (b[name] === QUOTE) kind = nodeName(b, name + 1, skipString(b, name) - 1);
              i = to = treeEnd(b, search, i);
            } else if (isKey(b, field, "stmt_location")) [location, i] = integer(b, i);
            else if (isKey(b, field, "stmt_len")) [length, i] = integer(b, i);
            else i = skipValue(b, i);
            if (b[i] === COMMA) i++;
          }
          i++;
          if (b[i] === COMMA) i++;
          if (from < 0) continue;
          const tree = wantTree(kind, location, length) ? decode(b.subarray(from, to)) : undefined;
          out.push({ kind, location, length, tree });
        }
        i++;
      }
      if (b[i] === COMMA) i++;
    }
    return out;
  });
}

// The parser's JSON is compact (no blanks between tokens). Names and strings may hold UTF-8, whose
// bytes are all ≥ 0x80 and so never taken for this punctuation.
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;

function expect(b: Uint8Array, i: number, byte: number): number {
  if (b[i] !== byte) throw new Error(`libpg-query's JSON is not as expected at ${String.fromCharCode(b[i])}`);
  return i + 1;
}

/** Past the string whose opening quote is at `i`. */
function skipString(b: Uint8Array, i: number): number {
  for (let c = b[++i]; c !== QUOTE; c = b[i]) i += c === BACKSLASH ? 2 : 1;
  return i + 1;
}

/** Past the value (object, array, string, number, true, false or null) that starts at `i`. */
function skipValue(b: Uint8Array, i: number): number {
  const first = b[i];
  if (first === QUOTE) return skipString(b, i);
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
    while (b[i] !== COMMA && b[i] !== CLOSE_BRACE && b[i] !== CLOSE_BRACKET) i++;
    return i;
  }
  let depth = 0;
  for (;;) {
    const c = b[i];
    if (c === QUOTE) i = skipString(b, i);
    else {
      i++;
      if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --depth === 0) return i;
    }
  }
}

const AFTER_TREE = [Buffer.from(',"stmt_location":'), Buffer.from(',"stmt_len":')];

/**
 * Past the statement tree that starts at `i`. Walking a tree byte by byte in JS was the linter's
 * largest cost after the parse itself, so the end is found with Buffer's native search for the keys
 * that follow a tree in its RawStmt: no tree holds them (RawStmt is only ever the top level, and a
 * quote inside a JSON string is escaped, so a string can't hold `,"stmt_len":`). A statement with
 * neither key (a lone statement at offset 0 without `;`) is walked.
 */
function treeEnd(b: Uint8Array, search: Buffer, i: number): number {
  let next = -1;
  for (const key of AFTER_TREE) {
    const at = search.indexOf(key, i);
    if (at >= 0 && (next < 0 || at < next)) next = at;
  }
  // A statement without either key runs to the end of the input, so no later statement's key is found.
  return next > i && b[next - 1] === CLOSE_BRACE ? next : skipValue(b, i);
}

/** A non-negative integer at `i`, and where it ends. */
function integer(b: Uint8Array, i: number): [number, number] {
  let n = 0;
  for (let c = b[i]; c >= 0x30 && c <= 0x39; c = b[++i]) n = n * 10 + (c - 0x30);
  return [n, i];
}

/** Whether the key whose text starts at `i` (after its quote) is `name`. */
function isKey(b: Uint8Array, i: number, name: string): boolean {
  for (let k = 0; k < name.length; k++) if (b[i + k] !== name.charCodeAt(k)) return false;
  return b[i + name.length] === QUOTE;
}

const NODE_NAMES = new Map<number, string>();

/**
 * A node name (ASCII letters) from bytes [start, end); the few a file has are kept, keyed by a hash of
 * their letters, and checked against the bytes so that two names never share one.
 */
function nodeName(b: Uint8Array, start: number, end: number): string {
  let hash = end - start;
  for (let i = start; i < end; i++) hash = (Math.imul(hash, 31) + b[i]) | 0;
  const known = NODE_NAMES.get(hash);
  if (known !== undefined && isKey(b, start, known)) return known;
  const name = utf8.decode(b.subarray(start, end));
  NODE_NAMES.set(hash, name);
  return name;
}
