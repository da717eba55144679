import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import path from "node:path";
import { BENCHMARKS, type BenchName } from "./catalog";
import { ran, summaryRows, textTable, type AllRun, type BenchResult } from "./report";

/** One bench in its own process, its JSON lines passed through to this one's stdout and kept. */
function runOne(name: BenchName, args: readonly string[], quick: boolean): Promise<BenchResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["bin/bench.mjs", name, ...args], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, INDEXDECK_BENCH_QUICK: quick ? "1" : "0" },
    });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      process.stdout.write(d);
    });
    child.on("error", reject);
    child.on("close", (exitCode) => {
      const output = stdout
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .flatMap((l) => {
          try {
            return [JSON.parse(l) as BenchResult["output"][number]];
          } catch {
            return [];
          }
        });
      resolve({ name, exitCode, seconds: (performance.now() - started) / 1000, output });
    });
  });
}

/**
 * `npm run bench -- all [--quick] [--out FILE]`: every benchmark in the catalog, one after the other,
 * then the summary table; the whole run is written as JSON (for `npm run bench:readme`). Exits 1 when
 * a benchmark did not run to its JSON; a goal not met is the table's to say, not a crash.
 */
export async function runAll(args: string[]) {
  const quick = args.includes("--quick");
  const outAt = args.indexOf("--out");
  // A full run is the README's source (npm run bench:readme), kept beside the benches; a quick one is CI's.
  const out = outAt >= 0 ? args[outAt + 1] : quick ? ".indexdeck-bench/all-quick.json" : "bench/last-run.json";
  const run: AllRun = {
    mode: quick ? "quick" : "full",
    startedAt: new Date().toISOString(),
    cores: availableParallelism(),
    cpu: cpus()[0]?.model ?? "unknown",
    node: process.version,
    results: [],
  };
  for (const [name, { quick: quickArgs }] of Object.entries(BENCHMARKS) as Array<[BenchName, (typeof BENCHMARKS)[BenchName]]>) {
    console.error(`— bench ${name}${quick ? " (quick)" : ""}`);
    run.results.push(await runOne(name, quick ? quickArgs : [], quick));
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(run, null, 2)}\n`); // after each bench, so a run cut short keeps what it measured
  }
  console.log(`\n${textTable(summaryRows(run))}\n\n(the whole run: ${out})`);
  process.exitCode = run.results.every(ran) ? 0 : 1;
}
