import { lintChangeSet } from "../lib/changeset/lint";
import { parserReady } from "../lib/changeset/parse";
// libpg-query's parseSync as the linter's one parser instance gives it (the bare parse the goal compares with).
import { parseSync } from "../lib/changeset/pg-parser";
import { median, pairedRounds, verdict } from "./support";

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

/** Lint may take at most this many times the bare parse of the same files. */
const RATIO_GOAL = 1.5;
// Enough alternating rounds that a burst of other work on this shared machine spoils a few, not the
// median; the gated corpus goes on until the median is known to be on one side of the goal.
const ROUNDS = { min: 9, max: 31, op: "<=", goal: RATIO_GOAL } as const;

async function measure(label: string, files: string[], statements: number, gate: boolean) {
  let findings = 0;
  const paired = await pairedRounds(
    gate ? ROUNDS : ROUNDS.min,
    () => {
      const t = performance.now();
      for (const text of files) parseSync(text);
      return performance.now() - t;
    },
    () => {
      const t = performance.now();
      findings = 0;
      files.forEach((text, i) => (findings += lintChangeSet({ file: `f${i}.sql`, text }).findings.length));
      return performance.now() - t;
    },
  );
  const lintMs = median(paired.bMs);
  const statementsPerSecond = Math.round(statements / (lintMs / 1000));
  const result: Record<string, unknown> = {
    benchmark: label,
    statements,
    files: files.length,
    bytes: files.reduce((n, f) => n + Buffer.byteLength(f), 0),
    findings,
    rounds: paired.rounds,
    parseMs: paired.aMs,
    lintMs: paired.bMs,
    ratios: paired.ratios,
    statementsPerSecond,
    lintToParseRatio: paired.medianRatio,
    lintToParseRatio95: paired.medianRatio95,
    decided: paired.decided,
  };
  if (gate)
    Object.assign(
      result,
      verdict([
        { figure: "statements linted, median round", value: statementsPerSecond, op: ">=", goal: 5000, unit: "/s" },
        {
          figure: "lint ÷ parse, median of pairwise ratios",
          value: paired.medianRatio,
          op: ROUNDS.op,
          goal: RATIO_GOAL,
          decided: paired.decided,
        },
      ]),
    );
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
  await measure("lint", corpus(statements, 50), statements, true);
  await measure("lint-single-file", corpus(statements, statements), statements, false);
}
