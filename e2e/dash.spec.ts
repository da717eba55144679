import type { Locator, Page } from "@playwright/test";
import { expect, test, createRollout, login, storeRows } from "./helpers";

/** What the chart must show: the latest p95 of each (phase, pattern), as the rollout page's table reads it. */
const STORED_P95 = `
  SELECT DISTINCT ON (phase, workload)
         phase,
         workload,
         p95_ms AS "p95Ms"
    FROM latency_probe
   WHERE rollout_id = $1
   ORDER BY phase, workload, id DESC`;

/** Every drawn p95 bar matches the store, and bar lengths are proportional to the values (one scale). */
async function expectBarsMatchStore(chart: Locator, rolloutId: number) {
  const stored = await storeRows<{ phase: "before" | "after"; workload: string; p95Ms: number | null }>(STORED_P95, [rolloutId]);
  const measured = stored.filter((s) => s.p95Ms !== null);
  expect(measured.length).toBeGreaterThan(0);
  const scales: number[] = [];
  for (const s of measured) {
    const bar = chart.locator(`rect.p95-bar[data-series="${s.phase}"][data-workload="${s.workload}"]`);
    await expect(bar).toHaveCount(1);
    expect(Number(await bar.getAttribute("data-p95"))).toBe(s.p95Ms);
    scales.push(Number(await bar.getAttribute("width")) / s.p95Ms!);
  }
  const [lo, hi] = [Math.min(...scales), Math.max(...scales)];
  expect(hi / lo, `px per ms across bars: ${scales.join(", ")}`).toBeLessThan(1.02);
  expect(await chart.locator("rect.p95-bar[data-p95]").count()).toBe(measured.length);
}

async function scrolledToBottom(log: Locator): Promise<boolean> {
  return log.evaluate((el) => el.scrollTop + el.clientHeight >= el.scrollHeight - 30);
}

async function runToVerified(page: Page, url: string, onApply: () => Promise<void>) {
  await page.goto(url);
  await page.getByLabel("Comment (required)").fill("reviewed");
  await page.getByRole("button", { name: "Approve" }).click();
  await expect(page.getByTestId("rollout-state")).toHaveText("approved");
  await page.getByLabel("Backup id (attest)").fill("snap-dash-001");
  await page.getByRole("button", { name: "Run pre-check" }).click();
  await expect(page.getByTestId("rollout-state")).toHaveText("prechecked", { timeout: 90_000 });
  await page.getByRole("button", { name: "Apply" }).click();
  await onApply();
  await expect(page.getByTestId("rollout-state")).toHaveText("verified", { timeout: 120_000 });
}

test("the rollout page and its report chart p95 from the store, show every statement's phases and events as sentences", async ({
  browser,
}) => {
  test.setTimeout(300_000);
  const sre = await browser.newPage();
  await login(sre, "sre");
  const { url, id } = await createRollout(sre, "001_franchise_indexes.sql", "chefcloud_staging");
  const rolloutId = Number(id);
  const dba = await browser.newPage();
  await login(dba, "dba");
  const log = dba.getByTestId("event-log");

  await runToVerified(dba, url, async () => {
    // Live: the timeline draws the running build's phases while it runs.
    await expect(dba.getByTestId("timeline").locator("rect.seg").first()).toBeVisible({ timeout: 60_000 });
    // Auto-scroll follows new events at the bottom, stops when the reader scrolls up, resumes at the bottom.
    await expect.poll(() => scrolledToBottom(log)).toBe(true);
    await log.evaluate((el) => el.scrollTo({ top: 0 }));
    const seen = await log.locator("li").count();
    await expect.poll(() => log.locator("li").count(), { timeout: 30_000 }).toBeGreaterThan(seen + 2);
    expect(await log.evaluate((el) => el.scrollTop)).toBe(0);
    await log.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
    const more = await log.locator("li").count();
    await expect.poll(() => log.locator("li").count(), { timeout: 30_000 }).toBeGreaterThan(more);
    expect(await scrolledToBottom(log)).toBe(true);
  });

  await test.step("the p95 chart's bars are the stored measurements, the table under it says the same", async () => {
    await dba.reload();
    await expectBarsMatchStore(dba.getByTestId("latency-chart"), rolloutId);
    await expect(dba.getByTestId("latency").locator("tbody tr")).toHaveCount(6);
    // The tooltip names the sample counts. Hovered on the widest bar: an index that made a pattern 100×
    // faster draws its "after" bar a pixel or two wide, under the axis line, where no pointer reaches it.
    const bars = dba.getByTestId("latency-chart").locator("rect.p95-bar[data-p95]");
    const widths = await bars.evaluateAll((els) => els.map((el) => Number(el.getAttribute("width"))));
    await bars.nth(widths.indexOf(Math.max(...widths))).hover();
    await expect(dba.locator(".chart-tooltip")).toContainText(/before: \d+\.\d\d ms \(\d+/);
  });

  const tasks = await storeRows<{ seq: number; indexName: string | null }>(
    `SELECT seq, index_name AS "indexName" FROM rollout_task WHERE rollout_id = $1 ORDER BY seq`,
    [rolloutId],
  );
  await test.step("the timeline shows every statement, with PostgreSQL's phase names for each build", async () => {
    const rows = dba.getByTestId("timeline-table").locator("tbody tr");
    await expect(rows).toHaveCount(tasks.length);
    for (const t of tasks) {
      const row = dba.getByTestId("timeline-table").locator(`tr[data-task="${t.seq}"]`);
      await expect(row).toContainText(t.indexName ?? "SET");
      if (t.indexName) await expect(row.locator("ol.phases li").first()).toBeVisible();
      await expect(dba.getByTestId("timeline").locator(`svg g[data-task="${t.seq}"]`)).toHaveCount(1);
    }
    await expect(dba.getByTestId("timeline-table")).toContainText("building index: scanning table");
  });

  await test.step("events read as sentences, oldest first, with the raw JSON one click away, and filter", async () => {
    const ready = log.locator('li[data-kind="index_ready"]');
    await expect(ready).toHaveCount(6);
    await expect(ready.first().getByTestId("event-text")).toHaveText(/^idx_\w+ is ready and valid, \d+(\.\d)? (B|kB|MB)\.$/);
    for (const text of await log.getByTestId("event-text").allInnerTexts()) expect(text).not.toMatch(/[{}]/);
    const kinds = await log.locator("li").evaluateAll((lis) => lis.map((li) => li.getAttribute("data-kind")));
    expect(kinds[0]).toBe("created");
    await expect(ready.first().getByTestId("event-raw")).toBeHidden();
    await ready.first().getByText("raw").click();
    await expect(ready.first().getByTestId("event-raw")).toContainText('"bytes":');

    const stored = await storeRows<{ kind: string; taskSeq: number | null }>(
      `SELECT kind, task_seq AS "taskSeq" FROM rollout_event WHERE rollout_id = $1 ORDER BY id`,
      [rolloutId],
    );
    expect(kinds).toEqual(stored.map((e) => e.kind));
    const payments = tasks.find((t) => t.indexName === "idx_payments_org_status_created")!;
    await dba.getByLabel("Show the events of one index").selectOption({ label: payments.indexName! });
    await expect(log.locator("li")).toHaveCount(stored.filter((e) => e.taskSeq === payments.seq).length);
    await dba.getByLabel("Show the events of one index").selectOption({ label: "all" });
    await dba.getByLabel("Errors only").check();
    await expect(log.locator("li")).toHaveCount(0);
  });

  await test.step("the report prints the same chart and timeline", async () => {
    await dba.goto(`/report/${rolloutId}`);
    await expectBarsMatchStore(dba.getByTestId("latency-chart"), rolloutId);
    await expect(dba.getByTestId("timeline-table").locator("tbody tr")).toHaveCount(tasks.length);
    await dba.emulateMedia({ media: "print" });
    await expect(dba.getByTestId("latency-chart").locator("svg").first()).toBeVisible();
    await expect(dba.getByTestId("timeline").locator("svg")).toBeVisible();
  });

  await test.step("a pattern measured only before is drawn as 'not measured' after, never as a zero bar", async () => {
    await storeRows(
      `INSERT INTO latency_probe (rollout_id, phase, workload, samples, errors, p95_ms) VALUES ($1, 'before', 'e2e: before only', 60, 0, 2.5)`,
      [rolloutId],
    );
    await dba.emulateMedia({ media: "screen" });
    await dba.goto(url);
    const chart = dba.getByTestId("latency-chart");
    await expect(chart.getByTestId("not-measured")).toHaveCount(1);
    await expect(chart.locator('[data-testid="not-measured"][data-series="after"][data-workload="e2e: before only"]')).toHaveText(
      "p95 after: not measured",
    );
    await expect(chart.locator('rect.p95-bar[data-series="after"][data-workload="e2e: before only"][data-p95]')).toHaveCount(0);
    await expectBarsMatchStore(chart, rolloutId);
  });

  // The specs share one demo: staging goes back to having none of the seed's indexes (rollout.spec builds them).
  await test.step("roll back, leaving staging as it was", async () => {
    await dba.getByLabel("Reason (required)").fill("e2e dash: leave staging as it was");
    await dba.getByRole("button", { name: "Roll back" }).click();
    await expect(dba.getByTestId("rollout-state")).toHaveText("rolled_back", { timeout: 90_000 });
    await expect(log.locator('li[data-kind="rollback_done"]').getByTestId("event-text")).toHaveText(/^Rolled back: dropped idx_/);
  });
});
