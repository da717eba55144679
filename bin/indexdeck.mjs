#!/usr/bin/env node
// The indexdeck CLI: the same lib/ as the web app, run as TypeScript without a compile step.
import { tsImport } from "tsx/esm/api";

const { main } = await tsImport("../lib/cli/main.ts", import.meta.url);
process.exitCode = await main(process.argv.slice(2));
