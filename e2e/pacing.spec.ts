import pg from "pg";
import { addDemoTarget, createRollout, demoTargetUrl, expect, login, storeRows, superuserRows, test } from "./helpers";

const TARGET = "e2e_paced";
const SQL = "CREATE INDEX CONCURRENTLY IF NOT EXISTS e2e_paced_idx ON payments (status, org_id);\n";
const LIMIT = 2;
const SLEEP = "SELECT pg_sleep(600) /* e2e busy */";

/** Ends the busy sessions as the embedded server's superuser (pg_sleep sessions of the deploy role can't be ended by it). */
async function endBusy(): Promise<void> {
  await superuserRows("postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1", [SLEEP]);
}

test.describe("a target whose builds pause while the server is busy", () => {
  let restore: (() => void) | undefined;

  test.beforeAll(() => {
    restore = addDemoTarget({
      id: TARGET,
      label: "Paced",
      approvals: { required: 0 },
      apply: { pauseWhen: { activeConnections: LIMIT }, recheckSeconds: 1 },
    });
  });

  test.afterAll(async () => {
    restore?.();
    await endBusy();
    // The target shares chefcloud_staging's tables: an index left on payments would be another spec's p95 baseline.
    // Dropped once the rollout's jobs are over, so no build a lifted pause let start comes after the drop.
    const unfinished = async () =>
      (
        await storeRows<{ n: number }>(
          "SELECT count(*)::int AS n FROM job j JOIN rollout r ON r.id = j.rollout_id WHERE r.target_id = $1 AND j.state IN ('queued', 'running')",
          [TARGET],
        )
      )[0].n;
    await expect.poll(unfinished, { timeout: 120_000 }).toBe(0);
    await superuserRows("chefcloud_staging", "DROP INDEX CONCURRENTLY IF EXISTS e2e_paced_idx");
  });

  test("apply waits with the reason on the live page and in the event log, and resumes by itself when the sessions end", async ({
    page,
  }) => {
    test.setTimeout(180_000);
    await login(page, "dba");
    await page.goto("/changesets");
    await page.getByText("Upload or paste a change set").click();
    await page.getByLabel("Name").fill("e2e_paced.sql");
    await page.getByLabel("SQL", { exact: true }).fill(SQL);
    await page.getByRole("button", { name: "Store change set" }).click();
    await expect(page.locator("#upload-status")).toContainText(/^Stored db:\d+/);

    await createRollout(page, "e2e_paced.sql", TARGET);
    await expect(page.getByTestId("rollout-state")).toHaveText("approved");
    await page.getByLabel("Backup id (attest)").fill("snap-e2e-paced");
    await page.getByRole("button", { name: "Run pre-check" }).click();
    await expect(page.getByTestId("rollout-state")).toHaveText("prechecked", { timeout: 90_000 });

    // More sessions running a query on the target's server than its apply section allows.
    const busy = Array.from({ length: LIMIT + 1 }, () => new pg.Client({ connectionString: demoTargetUrl("chefcloud_staging") }));
    // Their sessions are terminated at the end: that is the expected end of each, not an error of the test.
    for (const c of busy) c.on("error", () => undefined);
    await Promise.all(busy.map((c) => c.connect()));
    const sleeping = busy.map((c) => c.query(SLEEP).catch(() => undefined));
    try {
      await page.getByRole("button", { name: "Apply" }).click();
      // The statement's live row says why it waits.
      const row = page.locator("tr").filter({ hasText: "e2e_paced_idx" }).first();
      await expect(row).toContainText(/paused: \d+ active connections > 2/, { timeout: 60_000 });
      const log = page.getByTestId("event-log");
      await expect(log).toContainText(/Line 1 waits, paused: \d+ active connections > 2; it resumes by itself when that clears\./);
      // Still waiting a few rechecks later: nothing was built while the server was busy.
      await page.waitForTimeout(3000);
      await expect(page.getByTestId("rollout-state")).toHaveText("applying");
      await expect(log).not.toContainText("resumed after");
    } finally {
      await endBusy();
      await Promise.all(sleeping);
      await Promise.all(busy.map((c) => c.end().catch(() => undefined)));
    }
    await expect(page.getByTestId("event-log")).toContainText(/Line 1 resumed after .+ paused\./, { timeout: 60_000 });
    await expect(page.getByTestId("rollout-state")).toHaveText(/^(applied|verifying|verified)$/, { timeout: 90_000 });
  });
});
