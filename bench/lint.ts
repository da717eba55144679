import { parseSync } from "libpg-query";
import { lintChangeSet } from "../lib/changeset/lint";
import { parserReady } from "../lib/changeset/parse";

const TEMPLATES = [
  (i: number) => `SET lock_timeout = '${1 + (i % 5)}s';`,
  (i: number) => `CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_${i} ON payments (org_id, status, created_at) WHERE amount > ${i};`,
  (i: number) => `-- indexdeck-ignore prefer-if-exists\nDROP INDEX CONCURRENTLY idx_old_${i};`,
  (i: number) => `COMMENT ON INDEX idx_${i} IS 'speeds up payments lookups for org ${i}';`,
  (i: number) => `CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS uq_${i} ON orders USING btree (lower(email), tenant_id) INCLUDE (id);`,
];

/** `statements` statements split over files of `perFile` statements each. */
function corpus(statements: number, perFile: number): string[] {
  const files: string[] = [];
  for (let start = 0; start < statements; start += perFile) {
    const n = Math.min(perFile, statements - start);
    files.push(Array.from({ length: n }, (_, k) => TEMPLATES[(start + k) % TEMPLATES.length](start + k)).join("\n"));
  }
  return files;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

// Rounds alternate parse and lint so both see the same machine; the minimum of each is the least
// disturbed run (this machine is shared), the median is reported beside it.
const ROUNDS = 7;

function measure(label: string, files: string[], statements: number, gate: boolean) {
  const parseMs: number[] = [];
  const lintMs: number[] = [];
  let findings = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let t = performance.now();
    for (const text of files) parseSync(text);
    parseMs.push(performance.now() - t);
    t = performance.now();
    findings = 0;
    files.forEach((text, i) => (findings += lintChangeSet({ file: `f${i}.sql`, text }).findings.length));
    lintMs.push(performance.now() - t);
  }
  const lint = Math.min(...lintMs);
  const parse = Math.min(...parseMs);
  const result: Record<string, unknown> = {
    benchmark: label,
    statements,
    files: files.length,
    bytes: files.reduce((n, f) => n + Buffer.byteLength(f), 0),
    findings,
    parseMs: +parse.toFixed(1),
    lintMs: +lint.toFixed(1),
    statementsPerSecond: Math.round(statements / (lint / 1000)),
    lintToParseRatio: +(lint / parse).toFixed(3),
    medianLintToParseRatio: +(median(lintMs) / median(parseMs)).toFixed(3),
  };
  if (gate) {
    result.goal = { statementsPerSecond: 5000, lintToParseRatio: 1.5 };
    result.pass = statements / (lint / 1000) >= 5000 && lint / parse <= 1.5;
  }
  console.log(JSON.stringify(result));
}

/**
 * Lint time vs bare libpg-query parse time of the same corpus. The gated run is a repository-like
 * corpus (1,000 files of 50 statements); the single 4 MB file is reported too: there the parse
 * tree the rules need stays alive for the whole file, and garbage collection makes lint dearer.
 */
export async function run(args: string[]) {
  const statements = Number(args[0] ?? 50_000);
  await parserReady();
  measure("lint", corpus(statements, 50), statements, true);
  measure("lint-single-file", corpus(statements, statements), statements, false);
}
