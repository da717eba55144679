import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { startEmbedded } from "../demo/embedded";
import { migrate } from "../store/migrator";
import { withTransaction } from "../store/pool";
import { appendAudit } from "./log";
import { verifyAudit } from "./verify";

/** SIGQUIT to the postmaster: PostgreSQL's immediate shutdown, which writes nothing more (a crash, to recovery). */
async function crash(dataDir: string): Promise<void> {
  const pid = Number((await readFile(path.join(dataDir, "postmaster.pid"), "utf8")).split("\n")[0]);
  process.kill(pid, "SIGQUIT");
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`postmaster ${pid} did not exit after SIGQUIT`);
}

// Audit commits skip the WAL flush inside the chain lock (lib/store/pool.ts withTransaction), so
// this checks the other half of that bargain on a server of its own: once withTransaction has
// returned, the row survives a crash. Without the flush that follows, the last rows sit in WAL
// buffers for up to the WAL writer's delay and the crash takes them.
describe("audit appends and a crash", () => {
  it("keeps every row withTransaction returned for, and the chain still verifies after recovery", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "audit-crash-"));
    let server = await startEmbedded(dir);
    const admin = new pg.Client({ connectionString: server.url("postgres") });
    await admin.connect();
    await admin.query("CREATE DATABASE crash");
    await admin.end();
    let pool = new pg.Pool({ connectionString: server.url("crash"), max: 4 });
    pool.on("error", () => undefined); // the crash ends its connections
    const c = await pool.connect();
    await migrate(c);
    c.release();
    const appends = 40;
    await Promise.all(
      Array.from({ length: 4 }, async (_, w) => {
        for (let i = w; i < appends; i += 4) {
          await withTransaction(pool, (tx) =>
            appendAudit(tx, { actor: `writer${w}`, role: "dba", action: "test.durable", details: { i } }),
          );
        }
      }),
    );
    await crash(path.join(dir, "pgdata"));
    await pool.end().catch(() => undefined);

    server = await startEmbedded(dir);
    pool = new pg.Pool({ connectionString: server.url("crash"), max: 2 });
    try {
      const {
        rows: [{ n }],
      } = await pool.query("SELECT count(*)::int AS n FROM audit_log WHERE action = 'test.durable'");
      expect(n).toBe(appends);
      expect(await verifyAudit(pool)).toMatchObject({ ok: true, rows: appends });
    } finally {
      await pool.end();
      await server.stop();
    }
  }, 120_000);
});
