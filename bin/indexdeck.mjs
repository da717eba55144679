#!/usr/bin/env node
// The indexdeck CLI: the same lib/ as the web app, compiled to JavaScript and rebuilt when a source changes.
import { readFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { compiledCli } from "./cli-build.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
if (process.argv[2] === "--version") {
  console.log(JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version);
  process.exit(0);
}
const entry = await compiledCli(root);
const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(process.argv.slice(2));
