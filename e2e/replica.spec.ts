import pg from "pg";
import { startReplicaPair, type ReplicaPair } from "../lib/testing/replica";
import { addDemoTarget, expect, login, test } from "./helpers";

const TARGET = "e2e_replicated";
const REPLICA = "e2e_replicated_r1";

async function run(url: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** Index scans of t_a on the replica, flushed to its statistics. */
async function readOnReplica(pair: ReplicaPair, times: number): Promise<void> {
  const statements = Array.from({ length: times }, (_, i) => `SELECT * FROM t WHERE a = ${i + 1};`).join("\n");
  await run(pair.replicaUrl(), `SET enable_seqscan = off; SET enable_bitmapscan = off; ${statements} SELECT pg_stat_force_next_flush();`);
}

test.describe("a target with a streaming replica", () => {
  let pair: ReplicaPair;
  let restore: (() => void) | undefined;

  test.beforeAll(async () => {
    test.setTimeout(120_000);
    pair = await startReplicaPair();
    await run(
      pair.primaryUrl(),
      `CREATE TABLE t (id int, a int, b int);
       INSERT INTO t SELECT g, g, g FROM generate_series(1, 100000) g;
       CREATE INDEX t_a ON t (a);
       CREATE INDEX t_b ON t (b);
       ANALYZE t`,
    );
    await pair.caughtUp();
    await readOnReplica(pair, 3);
    restore = addDemoTarget({
      id: TARGET,
      label: "Replicated",
      url: pair.primaryUrl(),
      replicas: [{ id: REPLICA, url: pair.replicaUrl(), label: "reads" }],
      unusedWindowDays: 0,
    });
  });

  test.afterAll(async () => {
    restore?.();
    await pair?.stop();
  });

  test("the Indexes table and the chart show scans per node; the index only the replica reads is not offered as unused", async ({
    page,
  }) => {
    await login(page, "engineer");
    await page.goto(`/indexes?target=${TARGET}`);
    await expect(page.getByTestId("usage-nodes")).toContainText("primary (primary): counting scans since");
    await expect(page.getByTestId("usage-nodes")).toContainText(`${REPLICA} (replica, reads): counting scans since`);
    const row = page.locator("tr").filter({ hasText: "public.t_a" });
    await expect(row.locator("[data-node-scans]")).toHaveText(`primary: 0${REPLICA}: 3`);

    await page.goto(`/indexes?target=${TARGET}&tab=reports`);
    const unused = page.locator('[data-report="unused"] tr');
    await expect(unused.filter({ hasText: "public.t_b" })).toHaveCount(1);
    await expect(unused.filter({ hasText: "public.t_a" })).toHaveCount(0);

    // The collector (every 2 s here) snapshots both nodes: the replica's later reads show as its own line.
    await readOnReplica(pair, 5);
    await expect(async () => {
      await page.goto(`/indexes/${TARGET}/${encodeURIComponent("public.t_a")}`);
      await expect(page.getByTestId("usage-chart")).toContainText(`scans / min on ${REPLICA}`, { timeout: 2000 });
    }).toPass({ timeout: 30_000 });
    await expect(page.getByTestId("usage-chart")).toContainText("scans / min, all nodes");
  });

  test("with the replica stopped, nothing is unused: each index without scans lacks evidence, and the page says why", async ({ page }) => {
    await pair.stopReplica();
    try {
      await login(page, "engineer");
      const short = page.locator('[data-report="not-enough-evidence"] tr').filter({ hasText: "public.t_b" });
      await expect(async () => {
        await page.goto(`/indexes?target=${TARGET}&tab=reports`);
        await expect(short).toHaveCount(1, { timeout: 1000 });
      }).toPass({ timeout: 20_000 });
      await expect(short).toContainText(`not enough evidence: ${REPLICA} unreachable:`);
      await expect(page.locator('[data-report="unused"] tr').filter({ hasText: "public.t_b" })).toHaveCount(0);
      await expect(page.getByTestId("usage-nodes")).toContainText(`${REPLICA} (replica, reads): unreachable:`);
    } finally {
      await pair.startReplica();
    }
  });
});
