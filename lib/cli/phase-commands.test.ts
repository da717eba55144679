import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { createUser } from "../auth/users";
import { startRunner } from "../jobs/runner";
import { runPhaseJob } from "../rollout/run-phase";
import { createRollout } from "../rollout/rollouts";
import { seedOrders, testTargets, uploadChangeSet, DBA } from "../rollout/testing";
import { freshDatabase, pgServers } from "../testing/db";
import { runCli } from "./testing";
import { fixedTargets } from "../targets/source";

const SQL =
  "SET lock_timeout = '2s';\nSET statement_timeout = 0;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS orders_cli ON orders (org_id, created_at);\n";

describe.each(pgServers())("indexdeck precheck|apply|verify|rollback on $name PostgreSQL", (server) => {
  it("acts directly with --database-url, printing JSON per check and per index", async () => {
    const url = await freshDatabase(server, "empty");
    await seedOrders(url, 50_000);
    const dir = await mkdtemp(path.join(tmpdir(), "cli-"));
    const file = path.join(dir, "cli.sql");
    await writeFile(file, SQL);

    const pre = await runCli(["precheck", "--changeset", file, "--database-url", url, "--json", "--backup-id", "nightly-42"]);
    const report = JSON.parse(pre.out);
    expect(report.checks.map((c: { id: string }) => c.id)).toEqual([
      "server-version",
      "disk-space",
      "backup",
      "old-transactions",
      "replication",
      "invalid-indexes",
      "schema",
      "session",
      "partitions",
      "maintenance-window",
    ]);
    expect(report.checks.find((c: { id: string }) => c.id === "backup").summary).toBe("backup nightly-42 attested by cli");

    const before = Date.now();
    const apply = await runCli(["apply", "--changeset", file, "--database-url", url, "--json"]);
    const after = Date.now();
    expect(apply.code).toBe(0);
    const [task] = JSON.parse(apply.out).tasks;
    expect(JSON.parse(apply.out).tasks).toEqual([expect.objectContaining({ index: "orders_cli", status: "done", createdByRollout: true })]);
    // When the build started and ended, in the run's own window and in order.
    const [startedAt, finishedAt] = [Date.parse(task.startedAt), Date.parse(task.finishedAt)];
    expect(task.startedAt).toBe(new Date(startedAt).toISOString());
    expect(before).toBeLessThanOrEqual(startedAt);
    expect(startedAt).toBeLessThanOrEqual(finishedAt);
    expect(finishedAt).toBeLessThanOrEqual(after);

    const verify = await runCli(["verify", "--changeset", file, "--database-url", url, "--json"]);
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.out).indexes[0]).toMatchObject({ title: "orders_cli", status: "pass" });

    expect((await runCli(["rollback", "--changeset", file, "--database-url", url])).code).toBe(2);
    const rollback = await runCli(["rollback", "--changeset", file, "--database-url", url, "--reason", "testing the way back"]);
    expect(rollback.code).toBe(0);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    expect((await c.query("SELECT to_regclass('orders_cli') AS i")).rows[0].i).toBeNull();
    await c.end();
  });

  it("refuses a blocking build with --database-url, and a policy target without a rollout", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "cli-"));
    const file = path.join(dir, "block.sql");
    await writeFile(file, "CREATE INDEX orders_block ON orders (id);\n");
    const r = await runCli(["apply", "--changeset", file, "--database-url", "postgres://x@127.0.0.1:1/x"]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/refused on a production target/);
    // Not a PostgreSQL URL: unusable input, said before anything connects anywhere.
    expect(await runCli(["apply", "--changeset", file, "--database-url", "mysql://x@127.0.0.1:1/x"])).toMatchObject({
      code: 2,
      err: "indexdeck apply: --database-url must be a postgres:// or postgresql:// URL\n",
    });
    expect(await runCli(["apply", "--changeset", file, "--target", "chefcloud_prod"])).toMatchObject({
      code: 2,
      err: expect.stringContaining("create and approve a rollout"),
    });
  });

  it("opens an apply's sessions while it plans, and a plan that fails closes them at once, even mid-connect", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "cli-"));
    const file = path.join(dir, "block.sql");
    await writeFile(file, "CREATE INDEX orders_block ON orders (id);\n");
    // A server that accepts and never answers: a connect to it would wait forever. It reads (and
    // ignores) what arrives, so the client's close is seen after its startup packet.
    const sockets: Socket[] = [];
    const silent = createServer((s) => void sockets.push(s.resume()));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const r = await runCli(["apply", "--changeset", file, "--database-url", `postgres://x@127.0.0.1:${port}/x`]);
      expect(r).toMatchObject({ code: 1, err: expect.stringMatching(/refused on a production target/) });
      // Every connection that reached the server is closed by the client (none left half-open).
      await new Promise((resolve) => setTimeout(resolve, 200));
      await Promise.all(sockets.map((s) => (s.closed ? undefined : new Promise((resolve) => s.once("close", resolve)))));
    } finally {
      silent.close();
    }
  }, 15_000);

  it("gives up on a target that accepts a connection and never answers after --connect-timeout, having run nothing", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "cli-"));
    const file = path.join(dir, "valid.sql");
    await writeFile(file, SQL);
    const sockets: Socket[] = [];
    // Read (and ignore) what arrives, so the client's close is seen.
    const silent = createServer((s) => void sockets.push(s.resume()));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const url = `postgres://x@127.0.0.1:${(silent.address() as AddressInfo).port}/x`;
    try {
      const started = performance.now();
      const r = await runCli(["apply", "--changeset", file, "--database-url", url, "--connect-timeout", "1"]);
      const took = performance.now() - started;
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/^apply FAILED: cannot connect to the target: .*timeout/);
      expect(took).toBeGreaterThanOrEqual(900);
      expect(took).toBeLessThan(5000);
      await Promise.all(sockets.map((s) => (s.closed ? undefined : new Promise((resolve) => s.once("close", resolve)))));
      expect(await runCli(["apply", "--changeset", file, "--database-url", url, "--connect-timeout", "soon"])).toMatchObject({
        code: 2,
        err: "indexdeck apply: --connect-timeout must be a number of seconds from 0 to 3600, got soon\n",
      });
    } finally {
      silent.close();
    }
  }, 20_000);

  it("acts on an approved rollout with --rollout, through the same queue as the web app", async () => {
    const storeUrl = await freshDatabase(server);
    const targetUrl = await freshDatabase(server, "empty");
    await seedOrders(targetUrl, 50_000);
    const pool = new pg.Pool({ connectionString: storeUrl });
    const targets = testTargets(targetUrl);
    await createUser(pool, { email: "dba", role: "dba", password: "long enough password" }, null);
    await createUser(pool, { email: "eng", role: "engineer", password: "long enough password" }, null);
    const rollout = await createRollout(
      pool,
      fixedTargets(targets),
      { changesetId: await uploadChangeSet(pool, "cli-r.sql", SQL), targetId: "stage" },
      DBA,
    );
    const runner = startRunner({
      pool,
      pollMs: 100,
      log: () => undefined,
      handle: (job) => runPhaseJob({ pool, targets: fixedTargets(targets) }, job),
    });
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = storeUrl;
    try {
      expect(await runCli(["apply", "--rollout", String(rollout.id), "--as", "eng"])).toMatchObject({
        code: 1,
        err: expect.stringContaining("role engineer may not rollout:run"),
      });
      const pre = await runCli(["precheck", "--rollout", String(rollout.id), "--as", "dba", "--backup-id", "b-1", "--json"]);
      expect(JSON.parse(pre.out)).toMatchObject({ ok: true, state: "prechecked" });
      const apply = await runCli(["apply", "--rollout", String(rollout.id), "--as", "dba", "--json"]);
      expect(JSON.parse(apply.out).tasks.map((t: { status: string }) => t.status)).toEqual(["done", "done", "done"]);
    } finally {
      process.env.DATABASE_URL = saved;
      await runner.stop();
      await pool.end();
    }
  });
});
