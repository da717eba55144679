// The entry of the CLI-only package (bin/cli-pack.mjs): the bundle is its own bin, with its version
// written in at build time, and it needs nothing installed beside it.
import { runAndExit } from "./main";

declare const INDEXDECK_VERSION: string;

if (process.argv[2] === "--version") console.log(INDEXDECK_VERSION);
else await runAndExit(process.argv.slice(2));
