// The CLI runs JavaScript compiled from lib/ (esbuild: one bundle per command, the packages left in
// node_modules), rebuilt whenever a source differs from what the bundle was built from. Plain
// JavaScript, so starting the CLI never compiles TypeScript unless a source has changed.
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

/** Every file the bundle is built from: lib's sources (tests aside) and what decides how they compile. */
function sources(root) {
  const files = ["package.json", "tsconfig.json"];
  const walk = (dir) => {
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (/\.(ts|mjs|cjs|js|json|sql)$/.test(entry.name) && !/\.test\.ts$/.test(entry.name)) files.push(rel);
    }
  };
  walk("lib");
  return files.sort();
}

/** A digest of the sources' names and contents: any edit, added or removed file changes it. */
export function sourceDigest(root) {
  const hash = createHash("sha256");
  for (const file of sources(root))
    hash
      .update(`${file}\0`)
      .update(readFileSync(path.join(root, file)))
      .update("\0");
  return hash.digest("hex");
}

/**
 * The compiled CLI's entry for the sources in `root`, built first when none matches them. The build
 * goes to a fresh directory renamed into place, so two CLIs starting at once never see half of one.
 */
export async function compiledCli(root, cacheDir = path.join(root, "node_modules", ".cache", "indexdeck-cli")) {
  const digest = sourceDigest(root);
  const dir = path.join(cacheDir, digest.slice(0, 16));
  const entry = path.join(dir, "main.mjs");
  try {
    statSync(entry);
    return entry;
  } catch {
    // not built yet for these sources
  }
  const { build } = await import("esbuild");
  const tmp = `${dir}.${process.pid}.tmp`;
  await build({
    entryPoints: { main: path.join(root, "lib", "cli", "main.ts") },
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    outdir: tmp,
    outExtension: { ".js": ".mjs" },
    logLevel: "error",
  });
  mkdirSync(cacheDir, { recursive: true });
  try {
    renameSync(tmp, dir);
  } catch {
    // another CLI built the same sources first: theirs is as good as ours
    rmSync(tmp, { recursive: true, force: true });
  }
  for (const old of readdirSync(cacheDir))
    if (old !== path.basename(dir) && !old.endsWith(".tmp")) rmSync(path.join(cacheDir, old), { recursive: true, force: true });
  writeFileSync(path.join(dir, "digest"), digest);
  return entry;
}
