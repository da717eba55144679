import pg from "pg";
import { collectTarget, DEFAULT_COLLECT_CONCURRENCY, startCollector } from "../lib/monitor/collector";
import { migrate } from "../lib/store/migrator";
import { parseTargetsFile } from "../lib/targets/config";
import { arg, benchServer, dropDatabase, emptyDatabase, indexedTarget, verdict } from "./support";
import { fixedTargets } from "../lib/targets/source";

const INTERVAL_MS = 60_000;

/**
 * One app server's collector (startCollector, at its default concurrency) working through a fleet of
 * 100 targets of 1,000 indexes each, all due at once, in its 60 s interval. The targets are 100 ids for
 * one database of 1,000 indexes: each is queried and written to the store as its own target, and the
 * one PostgreSQL answers them all, so the target side is if anything busier than across 100 servers.
 * Each target is collected twice first, so the measured round computes real deltas. Reported: the
 * lag of the slowest target (from the interval's start to its collection's end) and how many app
 * servers a 1,000-target fleet needs at that pace.
 */
export async function run(args: string[]) {
  const count = arg(args, "targets", 100);
  const indexes = arg(args, "indexes", 1000);
  const server = await benchServer();
  const url = await indexedTarget(server, `bench_collector_${indexes}`, indexes);
  const store = new pg.Pool({ connectionString: await emptyDatabase(server, "bench_collector_fleet_store"), max: 10 });
  store.on("error", () => undefined); // dropped WITH (FORCE) at the end
  const targets = parseTargetsFile(
    JSON.stringify({
      targets: Array.from({ length: count }, (_, i) => ({
        id: `fleet_${i}`,
        label: `fleet ${i}`,
        environment: "staging",
        url,
        approvals: { required: 0 },
      })),
    }),
    "bench",
  );
  try {
    const c = await store.connect();
    await migrate(c);
    c.release();
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < targets.length; i += DEFAULT_COLLECT_CONCURRENCY) {
        await Promise.all(targets.slice(i, i + DEFAULT_COLLECT_CONCURRENCY).map((t) => collectTarget(store, t)));
      }
    }
    const errors: string[] = [];
    const started = Date.now();
    const collector = startCollector({ pool: store, targets: fixedTargets(targets), intervalMs: INTERVAL_MS, log: (l) => errors.push(l) });
    let done: Array<{ lagMs: number }> = [];
    while (done.length < count && !errors.length && Date.now() - started < 2 * INTERVAL_MS) {
      await new Promise((r) => setTimeout(r, 200));
      ({ rows: done } = await store.query<{ lagMs: number }>(
        `SELECT extract(epoch FROM last_ok_at - $1::timestamptz) * 1000 AS "lagMs" FROM collector_schedule WHERE last_ok_at >= $1`,
        [new Date(started)],
      ));
    }
    await collector.stop();
    if (errors.length) throw new Error(`the collector failed: ${errors[0]}`);
    if (done.length < count) throw new Error(`only ${done.length} of ${count} targets were collected in ${(2 * INTERVAL_MS) / 1000} s`);
    const slowestLagMs = Math.max(...done.map((d) => d.lagMs));
    const targetsPerServer = (count * INTERVAL_MS) / slowestLagMs;
    console.log(
      JSON.stringify({
        benchmark: "collector-fleet",
        server: server.name,
        targets: count,
        indexesPerTarget: indexes,
        concurrency: DEFAULT_COLLECT_CONCURRENCY,
        intervalMs: INTERVAL_MS,
        slowestLagMs: Math.round(slowestLagMs),
        targetsPerServerPerInterval: Math.floor(targetsPerServer),
        serversFor1000Targets: Math.ceil(1000 / targetsPerServer),
        ...verdict([{ figure: `slowest of ${count} targets' lag`, value: slowestLagMs, op: "<=", goal: INTERVAL_MS, unit: "ms" }]),
      }),
    );
  } finally {
    await store.end();
    await dropDatabase(server, "bench_collector_fleet_store");
    await server.stop();
  }
}
