import pg from "pg";
import { collectTarget } from "../lib/monitor/collector";
import { migrate } from "../lib/store/migrator";
import { parseTargetsFile } from "../lib/targets/config";
import { indexCounters } from "../lib/targets/counters";
import { arg, benchServer, dropDatabase, percentile } from "./support";
import { quoteIdent } from "../lib/sql/quote";

/** The collector's snapshot query on a target with 10,000 indexes, and the whole collection's cost. */
export async function run(args: string[]) {
  const indexes = arg(args, "indexes", 10_000);
  const perTable = 10;
  const server = await benchServer();
  const admin = new pg.Client({ connectionString: server.url("postgres") });
  await admin.connect();
  const {
    rows: [have],
  } = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [`bench_fleet_${indexes}`]);
  if (!have) {
    await admin.query(`CREATE DATABASE ${quoteIdent(`bench_fleet_${indexes}`)}`);
    const t = new pg.Client({ connectionString: server.url(`bench_fleet_${indexes}`) });
    await t.connect();
    console.error(`creating ${indexes} indexes…`);
    for (let i = 0; i < indexes / perTable; i++) {
      const cols = Array.from({ length: perTable }, (_, k) => `c${k} int`).join(", ");
      const idx = Array.from({ length: perTable }, (_, k) => `CREATE INDEX t${i}_c${k} ON t${i} (c${k});`).join("\n");
      await t.query(`CREATE TABLE t${i} (${cols}); ${idx}`);
    }
    await t.end();
  }
  await admin.query("DROP DATABASE IF EXISTS bench_fleet_store WITH (FORCE)");
  await admin.query("CREATE DATABASE bench_fleet_store");
  await admin.end();
  const url = server.url(`bench_fleet_${indexes}`);
  const target = parseTargetsFile(
    JSON.stringify({ targets: [{ id: "fleet", label: "fleet", environment: "staging", url, approvals: { required: 0 } }] }),
    "bench",
  )[0];
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const queryMs: number[] = [];
  let count = 0;
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    count = (await indexCounters(c)).length;
    queryMs.push(performance.now() - t);
  }
  await c.end();
  const store = new pg.Pool({ connectionString: server.url("bench_fleet_store") });
  store.on("error", () => undefined);
  const sc = await store.connect();
  await migrate(sc);
  sc.release();
  const collectMs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await collectTarget(store, target);
    collectMs.push(performance.now() - t);
  }
  await store.end();
  await dropDatabase(server, "bench_fleet_store");
  await server.stop();
  const sorted = [...queryMs].sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      benchmark: "collector",
      server: server.name,
      indexes: count,
      snapshotQueryMs: { p50: +percentile(sorted, 50).toFixed(1), max: +sorted.at(-1)!.toFixed(1), runs: sorted.length },
      fullCollectionMs: collectMs.map((m) => Math.round(m)),
      goal: { snapshotQueryMs: 500 },
      pass: percentile(sorted, 50) < 500,
    }),
  );
}
