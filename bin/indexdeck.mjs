#!/usr/bin/env node
// The indexdeck CLI: the same lib/ as the web app, compiled to JavaScript and rebuilt when a source changes.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { compiledCli, loadCli } from "./cli-build.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
if (process.argv[2] === "--version") {
  console.log(JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version);
  process.exit(0);
}
const cli = loadCli(await compiledCli(root));
await cli.runAndExit(process.argv.slice(2));
