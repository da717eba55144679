import path from "node:path";

declare const INDEXDECK_PARSE_WORKER: string | undefined;

/**
 * What the compiled CLI's builds (bin/cli-build.mjs, bin/cli-pack.mjs) put beside its bundle: the parser's
 * WebAssembly and the worker a long lint parses ahead in (the builds name it). Null when the CLI runs
 * from TypeScript, as the tests of lib/ do in-process.
 */
export const BUNDLED =
  typeof INDEXDECK_PARSE_WORKER === "string"
    ? { parserWasm: path.join(__dirname, "libpg-query.wasm"), parseWorker: path.join(__dirname, INDEXDECK_PARSE_WORKER) }
    : null;
