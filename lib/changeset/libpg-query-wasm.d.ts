// libpg-query's Emscripten module (the file its index loads), which the package ships without types.
declare module "libpg-query/wasm/libpg-query.js" {
  export interface PgQueryWasm {
    HEAPU8: Uint8Array;
    _malloc(bytes: number): number;
    _free(ptr: number): void;
    _wasm_parse_query_raw(queryPtr: number): number;
    _wasm_free_parse_result(resultPtr: number): void;
    _wasm_scan(queryPtr: number): number;
    _wasm_free_string(ptr: number): void;
    getValue(ptr: number, type: "i32"): number;
    UTF8ToString(ptr: number): string;
  }
  /** Emscripten's options; `instantiateWasm` replaces its own compile and instantiation of the .wasm. */
  export interface PgQueryOptions {
    instantiateWasm?(imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance) => void): object;
  }
  const PgQueryModule: (options?: PgQueryOptions) => Promise<PgQueryWasm>;
  export default PgQueryModule;
}
