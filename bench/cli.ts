import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { lintCorpus } from "./lint-corpus";
import { arg, benchServer, chefcloud, copyDatabase, dropDatabase, median, pairedRounds, verdict } from "./support";

const BIN = path.resolve("bin/indexdeck.mjs");

/** One whole process as a user runs it: wall time and peak RSS (GNU time), its exit status. */
function timed(command: string, args: string[]): { ms: number; rssKb: number; status: number | null } {
  const t = performance.now();
  const p = spawnSync("/usr/bin/time", ["-f", "%M", command, ...args], { encoding: "utf8", maxBuffer: 1 << 30 });
  const ms = performance.now() - t;
  const rssKb = Number(p.stderr.trim().split("\n").at(-1));
  return { ms, rssKb, status: p.status };
}

/**
 * The CLI as a CI job or a DBA pays for it, whole processes side by side with `node -e 0` and with
 * `psql -f`: start-up, lint of the seed change set, a 7 MB file's time and peak memory, and apply of
 * the seed's six indexes against psql on identical copies. Every goal is judged on the median of
 * pairwise ratios over alternating rounds.
 */
export async function run(args: string[]) {
  const rounds = arg(args, "rounds", 7);
  const rows = arg(args, "rows", 1_000_000);
  const applyRounds = arg(args, "apply-rounds", 4);
  const corpusBytes = arg(args, "corpus-mb", 7) * 1024 * 1024;
  // The first run builds the compiled CLI; that is an install step, not a start.
  timed(process.execPath, [BIN, "--help"]);
  const node0 = () => timed(process.execPath, ["-e", "0"]).ms;
  const help = await pairedRounds(rounds, node0, () => timed(process.execPath, [BIN, "--help"]).ms);
  const version = await pairedRounds(rounds, node0, () => timed(process.execPath, [BIN, "--version"]).ms);
  const lintSeed = await pairedRounds(
    rounds,
    node0,
    () => timed(process.execPath, [BIN, "lint", "sql/indexes/001_franchise_indexes.sql"]).ms,
  );

  const dir = mkdtempSync(path.join(tmpdir(), "bench-cli-"));
  const corpusFile = path.join(dir, "corpus.sql");
  writeFileSync(corpusFile, lintCorpus(corpusBytes, { broken: false }));
  const statements = Number(
    JSON.parse(spawnSync(process.execPath, [BIN, "lint", corpusFile, "--format", "json"], { encoding: "utf8", maxBuffer: 1 << 30 }).stdout)
      .summary.statements,
  );
  // The goal is the default (text) format's, written as the file is linted; JSON, whose summary comes
  // first, holds every finding until the end, and is shown beside it.
  const corpusRuns = Array.from({ length: 3 }, () => timed(process.execPath, [BIN, "lint", corpusFile]));
  const corpusMs = median(corpusRuns.map((r) => r.ms));
  const corpusRssMb = Math.max(...corpusRuns.map((r) => r.rssKb)) / 1024;
  const jsonRssMb = timed(process.execPath, [BIN, "lint", corpusFile, "--format", "json"]).rssKb / 1024;

  const server = await benchServer();
  await chefcloud(server, `bench_chefcloud_${rows}`, rows);
  const sql = readFileSync("sql/indexes/001_franchise_indexes.sql", "utf8").replace(
    "SET statement_timeout = '30s';",
    "SET statement_timeout = 0;",
  );
  const changeset = path.join(dir, "changeset.sql");
  writeFileSync(changeset, sql);
  const applyCopy = async (name: string) => copyDatabase(server, `bench_chefcloud_${rows}`, name);
  const apply = await pairedRounds(
    applyRounds,
    async () => {
      const t = timed("psql", [await applyCopy("bench_cli_psql"), "-v", "ON_ERROR_STOP=1", "-q", "-f", changeset]);
      if (t.status !== 0) throw new Error("psql failed");
      return t.ms;
    },
    async () => {
      const t = timed(process.execPath, [BIN, "apply", "--changeset", changeset, "--database-url", await applyCopy("bench_cli_indexdeck")]);
      if (t.status !== 0) throw new Error("indexdeck apply failed");
      return t.ms;
    },
  );
  await dropDatabase(server, "bench_cli_psql");
  await dropDatabase(server, "bench_cli_indexdeck");
  await server.stop();

  const statementsPerSecond = Math.round(statements / (corpusMs / 1000));
  console.log(
    JSON.stringify({
      benchmark: "cli",
      rounds,
      server: server.name,
      startup: {
        nodeMs: help.aMs,
        helpMs: help.bMs,
        helpRatio: help.medianRatio,
        versionMs: version.bMs,
        versionRatio: version.medianRatio,
      },
      lintSeed: { ms: lintSeed.bMs, ratio: lintSeed.medianRatio },
      corpus: {
        bytes: corpusBytes,
        statements,
        ms: corpusRuns.map((r) => Math.round(r.ms)),
        peakRssMb: +corpusRssMb.toFixed(1),
        jsonFormatPeakRssMb: +jsonRssMb.toFixed(1),
        statementsPerSecond,
      },
      apply: {
        rowsPerTable: rows,
        psqlMs: apply.aMs,
        indexdeckMs: apply.bMs,
        ratios: apply.ratios,
        medianRatio: apply.medianRatio,
      },
      ...verdict([
        { figure: "`--help` ÷ `node -e 0`", value: help.medianRatio, op: "<=", goal: 2 },
        { figure: "`--version` ÷ `node -e 0`", value: version.medianRatio, op: "<=", goal: 2 },
        { figure: "lint of the seed ÷ `node -e 0`", value: lintSeed.medianRatio, op: "<=", goal: 4 },
        { figure: "7 MB file, peak memory", value: corpusRssMb, op: "<=", goal: 200, unit: "MB" },
        { figure: "7 MB file, statements linted", value: statementsPerSecond, op: ">=", goal: 50_000, unit: "/s" },
        { figure: "apply ÷ `psql -f`", value: apply.medianRatio, op: "<=", goal: 1.05 },
      ]),
    }),
  );
}
