#!/usr/bin/env node
// Builds the CLI-only package: `indexdeck` for a CI image that has Node and nothing of the web app.
// One esbuild bundle of lib/cli (the parser's JavaScript, pg and zod inside it; no Next.js, React or
// store), the parser's WebAssembly beside it, and a package.json with no dependencies, packed by
// `npm pack`. Usage: node bin/cli-pack.mjs [OUT_DIR] — prints the tarball's path.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/** Builds the package directory and its tarball under `outDir`; returns the tarball's path. */
export async function packCli(outDir) {
  const { version } = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
  const pkgDir = path.join(outDir, "indexdeck-cli");
  rmSync(pkgDir, { recursive: true, force: true });
  const { build } = await import("esbuild");
  await build({
    entryPoints: { indexdeck: path.join(root, "lib", "cli", "standalone.ts") },
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    // pg's optional native binding is never installed; the bundle uses its JavaScript client.
    external: ["pg-native"],
    define: { INDEXDECK_VERSION: JSON.stringify(version) },
    // Bundled CommonJS (pg, the parser's loader) still uses require and __dirname, which ESM has not.
    banner: {
      js: [
        "#!/usr/bin/env node",
        "import { createRequire as __cr } from 'node:module'; import { fileURLToPath as __fu } from 'node:url';",
        "const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __fu(new URL('.', import.meta.url));",
      ].join("\n"),
    },
    outdir: pkgDir,
    outExtension: { ".js": ".mjs" },
    logLevel: "error",
  });
  // libpg-query looks for its WebAssembly beside the script that loads it: the bundle.
  const wasm = path.join(path.dirname(fileURLToPath(import.meta.resolve("libpg-query"))), "libpg-query.wasm");
  copyFileSync(wasm, path.join(pkgDir, "libpg-query.wasm"));
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
