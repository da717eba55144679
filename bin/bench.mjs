#!/usr/bin/env node
// npm run bench -- NAME [args]: runs bench/NAME.ts, which prints one JSON object per benchmark.
// npm run bench -- all [--quick] [--out FILE]: every benchmark (bench/catalog.ts), then a summary table.
import { tsImport } from "tsx/esm/api";

const { BENCHMARKS } = await tsImport("../bench/catalog.ts", import.meta.url);
const [name, ...args] = process.argv.slice(2);
if (name !== "all" && !Object.hasOwn(BENCHMARKS, name ?? "")) {
  console.error(`usage: npm run bench -- NAME   (all, or one of: ${Object.keys(BENCHMARKS).join(", ")})`);
  process.exit(2);
}
try {
  if (name === "all") await (await tsImport("../bench/all.ts", import.meta.url)).runAll(args);
  else await (await tsImport(`../bench/${name}.ts`, import.meta.url)).run(args);
} catch (err) {
  // What a bench could not reach: one line, exit 2, and no verdict it did not measure.
  if (err?.code === "BENCH_MISSING") {
    console.error(`bench ${name}: ${err.message}`);
    process.exit(2);
  }
  throw err;
}
