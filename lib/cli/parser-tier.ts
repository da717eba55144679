import { statSync } from "node:fs";
import v8 from "node:v8";
import { BUNDLED } from "./bundle";

/**
 * Up to this much SQL, a command-line run is better off with the parser's WASM on V8's baseline
 * compiler only. Otherwise V8 recompiles its hot functions with the optimizing compiler on background
 * threads, and the process waits for them before it exits: 0.2–0.4 s on the seed change set, more than
 * they save below a few hundred KB (the baseline parses about 1.6× slower).
 */
const BASELINE_PARSER_BYTES = 256 * 1024;

/** Bytes of the regular files among `paths`; a directory or anything unreadable counts as large. */
export function sqlBytes(paths: Array<string | undefined>): number {
  let total = 0;
  for (const p of paths) {
    if (p === undefined) continue;
    try {
      const info = statSync(p);
      total += info.isFile() ? info.size : Infinity;
    } catch {
      // not a file: an option's value, or a path the command itself will report
    }
  }
  return total;
}

/** V8's own tier, flag for flag (--liftoff-only turns both tier-ups off, and no other thread compiles the parser then). */
const DEFAULT_TIER = "--no-liftoff-only --wasm-tier-up --wasm-dynamic-tiering --wasm-num-compilation-tasks=128";
/**
 * Above BASELINE_PARSER_BYTES: the optimizing tier, compiled on one of V8's threads at a time. Each
 * concurrent compile of one of the parser's largest functions holds tens of MB while it runs (a 7 MB
 * lint's peak memory was ~50 MB of them, ~30 MB with one thread), and a long lint's other core is
 * busy parsing ahead anyway (parse-ahead.ts).
 */
const LONG_TIER = "--no-liftoff-only --wasm-tier-up --wasm-dynamic-tiering --wasm-num-compilation-tasks=1";
let tier = DEFAULT_TIER;

/**
 * Picks the parser's compiler tier for a process that parses this much SQL and ends, then starts
 * loading the parser, so that its WebAssembly is read and decoded while the command's own modules
 * load (a lint of the seed change set ends ~20 ms sooner). The tier comes first: the library
 * compiles its WASM as it loads.
 */
export async function prepareParser(bytes: number): Promise<void> {
  tier = bytes <= BASELINE_PARSER_BYTES ? "--liftoff-only" : LONG_TIER;
  v8.setFlagsFromString(tier);
  try {
    // Awaited as far as the start of the load only: the command's modules then load while V8 compiles.
    // From its file beside the bundle, so that a long lint's second thread runs the same compiled module.
    const wasm = BUNDLED && { wasmFile: BUNDLED.parserWasm };
    void (await import("../changeset/pg-parser")).parserReady(wasm ?? undefined).catch(() => undefined);
  } catch {
    // a load that fails fails again where the command awaits the parser, which reports it
  }
}

/**
 * The V8 flags the parser's tier has set, as a string that sets them again. V8 refuses a code cache
 * made under other flags than those it compiles under, so the compiled CLI (bin/cli-load.cjs)
 * makes each file's cache under the flags that file was compiled with.
 */
export function parserTierFlags(): string {
  return tier;
}
