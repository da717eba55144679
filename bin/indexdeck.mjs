#!/usr/bin/env node
// The indexdeck CLI: the same lib/ as the web app, run as TypeScript without a compile step.
import { tsImport } from "tsx/esm/api";

// `indexdeck lint … | head` closes the pipe early; that is not an error worth a stack trace.
process.stdout.on("error", (err) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});

const { main } = await tsImport("../lib/cli/main.ts", import.meta.url);
process.exitCode = await main(process.argv.slice(2));
