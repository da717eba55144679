import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

const SOURCES = ["app", "components", "lib", "proxy.ts", "instrumentation.ts", "next.config.js", "package-lock.json", "tsconfig.json"];

function* files(p: string): Generator<string> {
  if (!existsSync(p)) return;
  if (statSync(p).isFile()) {
    yield p;
    return;
  }
  for (const name of readdirSync(p).sort()) {
    if (name === "node_modules" || name.endsWith(".test.ts")) continue;
    yield* files(path.join(p, name));
  }
}

/** A digest of everything `next build` reads, to skip rebuilding when nothing changed. */
export function sourceDigest(root = process.cwd()): string {
  const h = createHash("sha256");
  for (const src of SOURCES) {
    for (const f of files(path.join(root, src))) {
      h.update(path.relative(root, f)).update("\0").update(readFileSync(f)).update("\0");
    }
  }
  return h.digest("hex");
}
