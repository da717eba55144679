#!/usr/bin/env node
// npm run bench:readme [-- FILE]: writes README.md's benchmark table from one `npm run bench -- all` run's JSON.
import { readFileSync, writeFileSync } from "node:fs";
import { tsImport } from "tsx/esm/api";

const { withBenchSection } = await tsImport("../bench/report.ts", import.meta.url);
const file = process.argv[2] ?? "bench/last-run.json";
const readme = new URL("../README.md", import.meta.url);
try {
  writeFileSync(readme, withBenchSection(readFileSync(readme, "utf8"), JSON.parse(readFileSync(file, "utf8"))));
  console.log(`README.md: the benchmark table now shows ${file}`);
} catch (err) {
  console.error(`bench:readme: ${err.message}`);
  process.exit(2);
}
