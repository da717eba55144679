/**
 * Every benchmark `npm run bench -- NAME` runs (bench/NAME.ts), in the order `all` runs them: what it measures, for the README's
 * table, and the arguments `npm run bench -- all --quick` gives it — a size at which it runs in
 * seconds, to prove it still runs, with no goal judged.
 */
export const BENCHMARKS = {
  lint: {
    what: "lint vs bare libpg-query parse of 50,000 statements in 1,000 files (and of the same corpus as one file)",
    quick: ["2000"],
  },
  apply: {
    what: "the seed's six indexes on 1,000,000 rows per table, indexdeck apply vs `psql -f` on identical copies",
    quick: ["--rows", "10000", "--rounds", "2", "--max-rounds", "2"],
  },
  cli: {
    what: "whole CLI processes side by side with `node -e 0` and `psql -f`: start-up, lint of the seed and of a 7 MB file, apply",
    quick: ["--rounds", "1", "--max-rounds", "1", "--rows", "10000", "--apply-rounds", "1", "--max-apply-rounds", "1", "--corpus-mb", "1"],
  },
  "write-impact": {
    what: "pgbench inserts and updates on payments and purchase_orders (2,000,000 rows) at half the measured capacity, before and during the two builds: default apply, gentle apply, and a plain CREATE INDEX as the control",
    quick: ["--rows", "20000", "--baseline", "1", "--capacity-seconds", "1", "--rounds", "1", "--max-rounds", "1", "--checkpoint", "0"],
  },
  fanout: {
    what: "100 SSE viewers of one rollout on the built app: pollers on the target and the delay of progress events",
    quick: ["--clients", "10", "--staging-rows", "20000"],
  },
  audit: {
    what: "100,000 audit appends from 8 writers, then `audit verify` of the chain three times",
    quick: ["--rows", "2000"],
  },
  usage: {
    what: "1,000 indexes × 30 days of usage in the store: one index's 30-day series and the Indexes table's rates, 8 concurrent callers",
    quick: ["--indexes", "50", "--days", "2"],
  },
  "usage-http": {
    what: "the usage API and the Indexes page over HTTP through the built app, 1 to 8 clients per core, 1 worker and one per core",
    quick: ["--indexes", "20", "--days", "1", "--max-clients", "2", "--staging-rows", "20000"],
  },
  "collector-fleet": {
    what: "one app server's collector through 100 targets of 1,000 indexes in one 60 s interval",
    quick: ["--targets", "4", "--indexes", "100"],
  },
  collector: {
    what: "the whole collection of a target with 10,000 indexes in the steady state (30 days of history, 30 earlier collections)",
    quick: ["--indexes", "200", "--days", "2", "--earlier", "2", "--runs", "2"],
  },
} as const satisfies Record<string, { what: string; quick: readonly string[] }>;

export type BenchName = keyof typeof BENCHMARKS;
