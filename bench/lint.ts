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

function corpus(statements: number): string {
  return Array.from({ length: statements }, (_, i) => TEMPLATES[i % TEMPLATES.length](i)).join("\n");
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Lint time vs bare libpg-query parse time on the same generated corpus, alternating runs. */
export async function run(args: string[]) {
  const statements = Number(args[0] ?? 50_000);
  await parserReady();
  const text = corpus(statements);
  const parseMs: number[] = [];
  const lintMs: number[] = [];
  let findings = 0;
  for (let round = 0; round < 5; round++) {
    let t = performance.now();
    parseSync(text);
    parseMs.push(performance.now() - t);
    t = performance.now();
    findings = lintChangeSet({ file: "bench.sql", text }).findings.length;
    lintMs.push(performance.now() - t);
  }
  const lint = median(lintMs);
  const parse = median(parseMs);
  console.log(JSON.stringify({
    benchmark: "lint",
    statements,
    bytes: Buffer.byteLength(text),
    findings,
    parseMs: +parse.toFixed(1),
    lintMs: +lint.toFixed(1),
    statementsPerSecond: Math.round(statements / (lint / 1000)),
    lintToParseRatio: +(lint / parse).toFixed(3),
    goal: { statementsPerSecond: 5000, lintToParseRatio: 1.5 },
    pass: statements / (lint / 1000) >= 5000 && lint / parse <= 1.5,
  }));
}
