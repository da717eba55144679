import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { readFileSync } from "node:fs";
import { applyTasks } from "../lib/rollout/apply";
import { MemorySink } from "../lib/rollout/memory-sink";
import { planChangeSet } from "../lib/rollout/plan";
import { APPLY_COPY, arg, benchServer, chefcloud, copyDatabase, dropDatabase, pairedRounds, verdict } from "./support";

/** indexdeck apply may take at most this many times what `psql -f` takes. */
const RATIO_GOAL = 1.05;

/**
 * indexdeck apply vs `psql -f` of the same change set on identical copies of the same data, in one
 * run and alternating who goes first, so both see the same machine. The seed's change set is used
 * with its statement_timeout lifted (30 s would cancel builds on larger data; see the linter).
 */
export async function run(args: string[]) {
  const rows = arg(args, "rows", 1_000_000);
  // At least `rounds` alternating rounds, more (up to `max-rounds`) until the median is known to be on one side of the goal.
  const rounds = arg(args, "rounds", 6);
  const maxRounds = Math.max(rounds, arg(args, "max-rounds", 16));
  const server = await benchServer();
  await chefcloud(server, `bench_chefcloud_${rows}`, rows);
  const sql = readFileSync("sql/indexes/001_franchise_indexes.sql", "utf8").replace(
    "SET statement_timeout = '30s';",
    "SET statement_timeout = 0;",
  );
  const file = path.join(mkdtempSync(path.join(tmpdir(), "bench-apply-")), "changeset.sql");
  writeFileSync(file, sql);
  const tasks = await planChangeSet("001_franchise_indexes.sql", sql, "production");
  const paired = await pairedRounds(
    { min: rounds, max: maxRounds, op: "<=", goal: RATIO_GOAL },
    async () => {
      const a = await copyDatabase(server, `bench_chefcloud_${rows}`, APPLY_COPY);
      const t = performance.now();
      const p = spawnSync("psql", [a, "-v", "ON_ERROR_STOP=1", "-q", "-f", file], { encoding: "utf8" });
      if (p.status !== 0) throw new Error(`psql failed: ${p.stderr}`);
      return performance.now() - t;
    },
    async () => {
      const b = await copyDatabase(server, `bench_chefcloud_${rows}`, APPLY_COPY);
      const t = performance.now();
      const result = await applyTasks(tasks, new MemorySink(), { url: b, applicationName: "indexdeck:bench", targetKey: "bench" });
      if (!result.ok) throw new Error(`indexdeck apply failed: ${result.error}`);
      return performance.now() - t;
    },
  );
  await dropDatabase(server, APPLY_COPY);
  await server.stop();
  console.log(
    JSON.stringify({
      benchmark: "apply",
      server: server.name,
      rowsPerTable: rows,
      indexes: 6,
      rounds: paired.rounds,
      psqlMs: paired.aMs,
      indexdeckMs: paired.bMs,
      ratios: paired.ratios,
      wallTimeRatio: paired.medianRatio,
      wallTimeRatio95: paired.medianRatio95,
      decided: paired.decided,
      ...verdict([
        {
          figure: "apply ÷ `psql -f`, median of pairwise ratios",
          value: paired.medianRatio,
          op: "<=",
          goal: RATIO_GOAL,
          decided: paired.decided,
        },
      ]),
    }),
  );
}
