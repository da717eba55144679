#!/usr/bin/env node
// npm run bench -- NAME [args]: runs bench/NAME.ts, which prints one JSON object per benchmark.
import { readdirSync } from "node:fs";
import { tsImport } from "tsx/esm/api";

const available = readdirSync(new URL("../bench/", import.meta.url))
  .filter((f) => f.endsWith(".ts"))
  .map((f) => f.slice(0, -3));
const [name, ...args] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- NAME   (one of: ${available.join(", ")})`);
  process.exit(2);
}
const { run } = await tsImport(`../bench/${name}.ts`, import.meta.url);
await run(args);
