import { spawnSync } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { BENCHMARKS } from "../bench/catalog";
import { readmeSection, summaryRows, withBenchSection, README_END, README_START, type AllRun } from "../bench/report";
import { median, medianRank, pairedRounds, ratioRounds, TAIL_95, verdict } from "../bench/support";
import { databaseUrl, freshRole, pgServers } from "../lib/testing/db";

describe("pairedRounds", () => {
  it("alternates who goes first and judges on the median of the pairwise ratios, keeping every round", async () => {
    const order: string[] = [];
    // Round 2 is disturbed for b only: a ratio of sums would follow it, the median does not.
    const a = [100, 100, 100, 100, 100];
    const b = [110, 90, 1000, 105, 120];
    const paired = await pairedRounds(
      5,
      (r) => (order.push(`a${r}`), a[r]),
      (r) => (order.push(`b${r}`), b[r]),
    );
    expect(order).toEqual(["a0", "b0", "b1", "a1", "a2", "b2", "b3", "a3", "a4", "b4"]);
    expect(paired.ratios).toEqual([1.1, 0.9, 10, 1.05, 1.2]);
    expect(paired.medianRatio).toBe(1.1);
    expect(paired.aMs).toEqual(a);
    expect(paired.bMs).toEqual(b);
    await expect(
      pairedRounds(
        0,
        () => 1,
        () => 1,
      ),
    ).rejects.toThrow(/rounds must be whole numbers with 1 ≤ min ≤ max, got 0/);
  });

  it("goes on past the least rounds only until the median's 95% interval is on one side of the goal", async () => {
    const a = () => 100;
    // Clearly over the goal, one round disturbed: decided after the least rounds.
    const over = [120, 118, 400, 121, 119, 122, 120, 120];
    const clear = await pairedRounds({ min: 6, max: 20, op: "<=", goal: 105 / 100 }, a, (r) => over[r]);
    expect(clear).toMatchObject({ rounds: 6, decided: true, medianRatio: 1.205, medianRatio95: [1.18, 4] });
    // Straddling the goal round after round: every round up to the most, and said to be undecided.
    const straddle = await pairedRounds({ min: 6, max: 12, op: "<=", goal: 1.05 }, a, (r) => (r % 2 ? 100 : 110));
    expect(straddle).toMatchObject({ rounds: 12, decided: false, medianRatio: 1.05, medianRatio95: [1, 1.1] });
    expect(straddle.ratios).toHaveLength(12);
  });

  it("measures several ratios per round and goes on until every goal is decided, not only the first", async () => {
    // The first goal is decided after three rounds. The second straddles its goal while the one outlier
    // is inside its interval: the 95% interval leaves it out from the ninth round, but an early stop
    // takes the 99.5% one, which leaves it out from the thirteenth.
    const second = [0.2, 0.3, 0.9, 0.2, 0.3, 0.2, 0.3, 0.2, 0.25, 0.2, 0.3, 0.2, 0.3, 0.2];
    let ran = 0;
    const judged = await ratioRounds({ min: 3, max: 20 }, { first: { op: "<=", goal: 3 }, second: { op: "<=", goal: 0.5 } }, async (r) => {
      ran++;
      return { first: 1.5, second: second[r] };
    });
    expect(ran).toBe(13);
    expect(judged.rounds).toBe(13);
    expect(judged.series.first).toMatchObject({ decided: true, medianRatio: 1.5 });
    expect(judged.series.second).toMatchObject({ decided: true, medianRatio: 0.25, medianRatio95: [0.2, 0.3] });
    expect(judged.series.second.ratios).toEqual(second.slice(0, 13));
    // At `max` the 95% interval judges: nine rounds are enough when nine are all there may be.
    const nine = await ratioRounds({ min: 3, max: 9 }, { second: { op: "<=", goal: 0.5 } }, async (r) => ({ second: second[r] }));
    expect(nine).toMatchObject({ rounds: 9, series: { second: { decided: true, medianRatio95: [0.2, 0.3] } } });
    // At most `max` rounds: a goal that straddles to the end is said to be undecided.
    const capped = await ratioRounds({ min: 3, max: 7 }, { first: { op: "<=", goal: 3 }, second: { op: "<=", goal: 0.5 } }, async (r) => ({
      first: 1.5,
      second: second[r],
    }));
    expect(capped).toMatchObject({ rounds: 7, series: { first: { decided: true }, second: { decided: false } } });
  });

  it("calls a median that sits on the goal decided in few runs, though it looks after every round", async () => {
    // A seeded generator: the same 2,000 runs every time. Each run's ratios scatter around the goal
    // itself, so every "decided" is wrong: up to 30 rounds, 5.9% of these runs with early looks at 99%
    // (judging at 95% after every round made it 12.9%); up to 100, early looks at 99% made it 7.9%.
    let seed = 42;
    const uniform = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
    // Up to 30 rounds, as most benches allow, and up to 100, as the CLI's apply does.
    for (const max of [30, 100]) {
      let wrong = 0;
      const runs = 2000;
      for (let i = 0; i < runs; i++) {
        const judged = await ratioRounds({ min: 8, max }, { apply: { op: "<=", goal: 1.05 } }, async () => ({
          apply: 1.05 + 0.02 * normal(),
        }));
        if (judged.series.apply.decided) wrong++;
      }
      expect(wrong / runs, `up to ${max} rounds`).toBeLessThan(0.07);
    }
  });

  it("holds the median with 95% confidence between the k-th smallest and k-th largest of n", () => {
    expect([5, 6, 9, 10, 15, 20, 31].map((n) => medianRank(n, TAIL_95))).toEqual([1, 1, 2, 2, 4, 6, 10]);
  });

  it("takes the mean of the two middle values of an even count", () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([3, 1, 2])).toBe(2);
  });
});

describe("verdict", () => {
  afterEach(() => {
    delete process.env.INDEXDECK_BENCH_QUICK;
  });

  it("passes only when every goal is met, each in its direction", () => {
    const v = verdict([
      { figure: "x", value: 1000, op: "<=", goal: 1000 },
      { figure: "y", value: 4999, op: ">=", goal: 5000 },
      { figure: "z", value: 1, op: "==", goal: 1 },
    ]);
    expect(v.goals.map((g) => g.met)).toEqual([true, false, true]);
    expect(v.pass).toBe(false);
    expect(verdict([{ figure: "x", value: 999, op: "<=", goal: 1000 }]).pass).toBe(true);
  });

  it("does not count a median ratio as meeting its goal while the median's 95% interval crosses the goal", () => {
    const ratio = { figure: "b ÷ a", value: 0.97, op: "<=", goal: 1.05 } as const;
    expect(verdict([{ ...ratio, decided: false }])).toMatchObject({ goals: [{ met: false, decided: false }], pass: false });
    expect(verdict([{ ...ratio, decided: true }]).pass).toBe(true);
    expect(verdict([{ ...ratio, value: 1.2, decided: true }]).pass).toBe(false);
  });

  it("gives no verdict in quick mode, where the sizes are too small for any goal", () => {
    process.env.INDEXDECK_BENCH_QUICK = "1";
    expect(verdict([{ figure: "x", value: 1, op: "<=", goal: 1000 }]).pass).toBeNull();
  });
});

const run = (mode: "full" | "quick"): AllRun => ({
  mode,
  startedAt: "2026-11-30T18:00:00.000Z",
  cores: 2,
  cpu: "Test CPU",
  node: "v20.0.0",
  results: [
    {
      name: "collector",
      exitCode: 0,
      seconds: 12,
      output: [
        {
          benchmark: "collector",
          goals: [{ figure: "whole collection, median", value: 1234.5, op: "<=", goal: 1000, unit: "ms", met: false }],
          pass: false,
        },
      ],
    },
    {
      name: "audit",
      exitCode: 0,
      seconds: 3,
      output: [
        { benchmark: "audit", goals: [{ figure: "appends", value: 2000, op: ">=", goal: 1000, unit: "/s", met: true }], pass: true },
      ],
    },
    { name: "fanout", exitCode: 2, seconds: 1, output: [] },
  ],
});

describe("the summary and the README's table", () => {
  it("has a row per goal with what was measured, and says when a goal is not met or a bench did not run", () => {
    expect(summaryRows(run("full"))).toEqual([
      ["benchmark", "figure", "measured", "goal", "met"],
      ["collector", "whole collection, median", "1,234.5 ms", "<= 1,000 ms", "**no**"],
      ["audit", "appends", "2,000 /s", ">= 1,000 /s", "yes"],
      ["fanout", "—", "did not run (exit 2)", "—", "no"],
      ...Object.keys(BENCHMARKS)
        .filter((n) => !["collector", "audit", "fanout"].includes(n))
        .map((n) => [n, "—", "not run (the run ended before it)", "—", "no"]),
    ]);
  });

  it("in quick mode says only whether each bench ran", () => {
    expect(summaryRows(run("quick"))).toEqual([
      ["benchmark", "ran", "seconds", "JSON objects"],
      ["collector", "yes", "12", "1"],
      ["audit", "yes", "3", "1"],
      ["fanout", "no (exit 2)", "1", "0"],
    ]);
  });

  it("is written into the README between its markers, with the run's date and cores, from a full run only", () => {
    const readme = `# x\n\n${README_START}\nold hand-typed figures\n${README_END}\n\nafter\n`;
    const written = withBenchSection(readme, run("full"));
    expect(written).not.toContain("old hand-typed figures");
    expect(written).toContain("run started 2026-11-30T18:00:00.000Z on 2 cores (Test CPU)");
    expect(written).toContain("| collector | whole collection, median | 1,234.5 ms | <= 1,000 ms | **no** |");
    expect(written.endsWith(`${README_END}\n\nafter\n`)).toBe(true);
    for (const name of Object.keys(BENCHMARKS)) expect(written).toContain(`| \`${name}\` |`);
    expect(() => readmeSection(run("quick"))).toThrow(/from a full run; this file is from a quick run/);
    expect(() => withBenchSection("# no markers\n", run("full"))).toThrow(/has no .* markers/);
  });
});

describe("npm run bench", () => {
  it("prints one line naming what it cannot reach and exits 2, with no verdict, when its database is unreachable", () => {
    const p = spawnSync(process.execPath, ["bin/bench.mjs", "audit", "--rows", "10"], {
      encoding: "utf8",
      env: { ...process.env, INDEXDECK_BENCH_PG: "postgres://postgres:secret@127.0.0.1:1/postgres" },
    });
    expect(p.status).toBe(2);
    expect(p.stdout).toBe("");
    expect(p.stderr.trim().split("\n")).toHaveLength(1);
    expect(p.stderr).toMatch(/^bench audit: cannot reach INDEXDECK_BENCH_PG \(postgres:\/\/postgres@127\.0\.0\.1:1\/postgres\): /);
    expect(p.stderr).not.toContain("secret");
  });

  it.each(["collector", "collector-fleet"])("%s: one line and exit 2 when its server is unreachable", (name) => {
    const p = spawnSync(process.execPath, ["bin/bench.mjs", name, "--indexes", "10"], {
      encoding: "utf8",
      env: { ...process.env, INDEXDECK_BENCH_PG: "postgres://postgres@127.0.0.1:1/postgres" },
    });
    expect(p.status).toBe(2);
    expect(p.stdout).toBe("");
    expect(p.stderr.trim().split("\n")).toEqual([expect.stringMatching(new RegExp(`^bench ${name}: cannot reach INDEXDECK_BENCH_PG `))]);
  });

  it.each(["collector", "collector-fleet"])("%s: one line and exit 2 when it may not create its databases", async (name) => {
    const server = pgServers()[0];
    const role = await freshRole(server);
    const p = spawnSync(process.execPath, ["bin/bench.mjs", name, "--indexes", "10"], {
      encoding: "utf8",
      env: { ...process.env, INDEXDECK_BENCH_PG: role.url(databaseUrl(server, "postgres")) },
    });
    expect(p.status).toBe(2);
    expect(p.stdout).toBe("");
    expect(p.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(
        new RegExp(`^bench ${name}: cannot create database bench_collector_10 on .*: permission denied to create database$`),
      ),
    ]);
  });

  it("refuses an unknown benchmark or a malformed size with exit 2", () => {
    const unknown = spawnSync(process.execPath, ["bin/bench.mjs", "support"], { encoding: "utf8" });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/usage: npm run bench -- NAME {3}\(all, or one of: lint, /);
    const size = spawnSync(process.execPath, ["bin/bench.mjs", "audit", "--rows", "many"], { encoding: "utf8" });
    expect(size.status).toBe(2);
    expect(size.stderr.trim()).toBe("bench audit: --rows needs a number ≥ 0, got many");
  });
});
