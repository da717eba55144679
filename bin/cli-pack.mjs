#!/usr/bin/env node
// Builds the CLI-only package: `indexdeck` for a CI image that has Node and nothing of the web app.
// One esbuild bundle of lib/cli (the parser's JavaScript, pg and zod inside it; no Next.js, React or
// store), the parser's WebAssembly beside it, and a package.json with no dependencies, packed by
// `npm pack`. Usage: node bin/cli-pack.mjs [OUT_DIR] — prints the tarball's path.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { copyParserWasm, NODE_BUNDLE, PARSE_WORKER_SOURCE } from "./cli-build.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));

/** Builds the package directory and its tarball under `outDir`; returns the tarball's path. */
export async function packCli(outDir) {
  const { version } = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
  const pkgDir = path.join(outDir, "indexdeck-cli");
  rmSync(pkgDir, { recursive: true, force: true });
  const { build } = await import("esbuild");
  const { metafile } = await build({
    ...NODE_BUNDLE,
    entryPoints: { indexdeck: path.join(root, "lib", "cli", "standalone.ts"), "parse-worker": PARSE_WORKER_SOURCE(root) },
    // pg's optional native binding is never installed; the bundle uses its JavaScript client.
    external: ["pg-native"],
    define: {
      ...NODE_BUNDLE.define,
      INDEXDECK_VERSION: JSON.stringify(version),
      INDEXDECK_PARSE_WORKER: JSON.stringify("parse-worker.mjs"),
    },
    banner: { js: `#!/usr/bin/env node\n${NODE_BUNDLE.banner.js}` },
    outdir: pkgDir,
  });
  copyParserWasm(metafile, pkgDir);
  writeFileSync(
    path.join(pkgDir, "package.json"),
    `${JSON.stringify(
      {
        name: "indexdeck-cli",
        version,
        description: "The indexdeck CLI alone: lint change sets, and run rollout phases against a target",
        type: "module",
        bin: { indexdeck: "indexdeck.mjs" },
        engines: { node: ">=20" },
        license: "UNLICENSED",
      },
      null,
      2,
    )}\n`,
  );
  mkdirSync(outDir, { recursive: true });
  const tarball = execFileSync("npm", ["pack", "--silent", "--pack-destination", outDir], { cwd: pkgDir, encoding: "utf8" }).trim();
  return path.join(outDir, tarball.split("\n").at(-1));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(await packCli(path.resolve(process.argv[2] ?? path.join(root, "dist"))));
}
