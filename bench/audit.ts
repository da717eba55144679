import { randomBytes } from "node:crypto";
import pg from "pg";
import { appendAudit } from "../lib/audit/log";
import { verifyAudit } from "../lib/audit/verify";
import { migrate } from "../lib/store/migrator";
import { withTransaction } from "../lib/store/pool";
import { arg, benchServer, dropDatabase, emptyDatabase, verdict } from "./support";

/** 100,000 audit appends from 8 concurrent writers on one chain, then `audit verify` of the whole chain. */
export async function run(args: string[]) {
  // Rows are signed (an HMAC per append, no extra round trip) and verified with the key, as in the app.
  process.env.INDEXDECK_AUDIT_KEY ??= randomBytes(32).toString("base64url");
  const rows = arg(args, "rows", 100_000);
  const writers = arg(args, "writers", 8);
  const server = await benchServer();
  await emptyDatabase(server, "bench_audit");
  const pool = new pg.Pool({ connectionString: server.url("bench_audit"), max: writers + 2 });
  pool.on("error", () => undefined); // the database is dropped WITH (FORCE) at the end
  const c = await pool.connect();
  await migrate(c);
  c.release();
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      while (next < rows) {
        const i = next++;
        await withTransaction(pool, (tx) =>
          appendAudit(tx, {
            actor: `writer-${w}`,
            role: "dba",
            action: "bench.append",
            targetId: "chefcloud_prod",
            rolloutId: i % 1000,
            details: { i, comment: "approved after reviewing the EXPLAIN plans", checks: ["lint", "backup", "disk"] },
          }),
        );
      }
    }),
  );
  const appendSeconds = (performance.now() - started) / 1000;
  // Verified in a steady state: without this, the first read sets the hint bits of 100,000 fresh rows
  // while autovacuum works through them too. Three runs, since one run on a shared machine says little.
  await pool.query("VACUUM (ANALYZE) audit_log");
  const runs: Array<{ ok: boolean; rows: number; seconds: number; rowsPerSecond: number }> = [];
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    const verdict = await verifyAudit(pool);
    const seconds = (performance.now() - t) / 1000;
    runs.push({ ok: verdict.ok, rows: verdict.rows, seconds: +seconds.toFixed(2), rowsPerSecond: Math.round(verdict.rows / seconds) });
  }
  const appendsPerSecond = Math.round(rows / appendSeconds);
  const verifyRowsPerSecond = [...runs].sort((a, b) => a.rowsPerSecond - b.rowsPerSecond)[1].rowsPerSecond;
  console.log(
    JSON.stringify({
      benchmark: "audit",
      server: server.name,
      rows,
      writers,
      appendSeconds: +appendSeconds.toFixed(1),
      appendsPerSecond,
      verify: { medianRowsPerSecond: verifyRowsPerSecond, runs },
      ...verdict([
        {
          figure: "verify runs that found the whole chain intact",
          value: runs.filter((v) => v.ok && v.rows === rows).length,
          op: "==",
          goal: runs.length,
        },
        { figure: "appends", value: appendsPerSecond, op: ">=", goal: 1000, unit: "/s" },
        { figure: "verify, median of 3", value: verifyRowsPerSecond, op: ">=", goal: 50_000, unit: "rows/s" },
      ]),
    }),
  );
  await pool.end();
  await dropDatabase(server, "bench_audit");
  await server.stop();
}
