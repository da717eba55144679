import type { Page } from "@playwright/test";
import pg from "pg";
import { expect, test, createRollout, demoTargetUrl, login, superuserRows } from "./helpers";

async function stateOf(page: Page) {
  return page.getByTestId("rollout-state");
}

test("sre requests, dba approves and runs pre-check → apply → verify with live progress; an engineer watches without buttons", async ({
  browser,
}) => {
  test.setTimeout(180_000);
  // The p95 "before" is only a baseline if nothing serves these queries yet: no index on the six tables
  // but their primary keys (a spec that leaves one behind would make this comparison noise).
  const others = await superuserRows<{ index: string }>(
    "chefcloud_staging",
    `SELECT indexrelid::regclass::text AS index FROM pg_index
      WHERE NOT indisprimary
        AND indrelid::regclass::text IN ('franchise_overview', 'franchise_rankings', 'franchise_budgets', 'inventory_batches', 'purchase_orders', 'payments')`,
  );
  expect(others).toEqual([]);
  const sre = await browser.newPage();
  await login(sre, "sre");
  const { url, id: rolloutId } = await createRollout(sre, "001_franchise_indexes.sql", "chefcloud_staging");
  await expect(await stateOf(sre)).toHaveText("awaiting_approval");
  // The requester is not offered the approval form.
  await expect(sre.getByRole("button", { name: "Approve" })).toHaveCount(0);

  const dba = await browser.newPage();
  await login(dba, "dba");
  await dba.goto(url);
  await dba.getByLabel("Comment (required)").fill("reviewed: six concurrent indexes");
  await dba.getByRole("button", { name: "Approve" }).click();
  await expect(await stateOf(dba)).toHaveText("approved");
  await expect(dba.getByTestId("approvals")).toContainText("dba (dba)");

  await dba.getByLabel("Backup id (attest)").fill("snap-e2e-001");
  await dba.getByRole("button", { name: "Run pre-check" }).click();
  await expect(await stateOf(dba)).toHaveText("prechecked", { timeout: 90_000 });
  await expect(dba.locator('[data-check="backup"]')).toContainText("backup snap-e2e-001 attested by dba");

  const engineer = await browser.newPage();
  await login(engineer, "engineer");
  await engineer.goto(url);
  await expect(engineer.getByRole("button", { name: "Apply" })).toHaveCount(0);
  const refused = await engineer.request.post(`/api/rollouts/${rolloutId}/apply`, { data: {} });
  expect(refused.status()).toBe(403);

  // Record every value the first big index's progress bar shows while it builds.
  const bar = dba.getByRole("progressbar", { name: "idx_payments_org_status_created progress" });
  const seen = new Set<string>();
  await dba.getByRole("button", { name: "Apply" }).click();
  const until = Date.now() + 90_000;
  while (Date.now() < until) {
    const v = await bar.getAttribute("aria-valuenow");
    if (v) seen.add(v);
    if (v === "100") break;
    await dba.waitForTimeout(50);
  }
  const intermediate = [...seen].map(Number).filter((v) => v > 0 && v < 100);
  expect(intermediate.length, `values seen: ${[...seen].join(", ")}`).toBeGreaterThanOrEqual(2);

  await expect(await stateOf(dba)).toHaveText("verified", { timeout: 90_000 });
  await expect(dba.locator('[data-check="plan:payments"]')).toContainText("uses idx_payments_org_status_created");
  // The seed's p95 table, measured: every pattern has a before and an after, and got faster.
  const latency = dba.getByTestId("latency").locator("tbody tr");
  await expect(latency).toHaveCount(6);
  for (const row of await latency.all()) await expect(row.locator("td").nth(3)).toHaveText(/^-\d+(\.\d)?%$/);

  // The engineer's page received the same live events, and still has no buttons.
  await expect(engineer.getByTestId("event-log").locator('li[data-kind="index_ready"]')).toHaveCount(6, { timeout: 30_000 });
  await expect(engineer.getByTestId("rollout-actions").getByRole("button")).toHaveCount(0);
  // The index's usage chart carries the rollout's markers, and the collector's points arrive.
  const usageUrl = "/api/usage?target=chefcloud_staging&index=public.idx_payments_org_status_created&range=24h";
  await expect
    .poll(async () => (await (await engineer.request.get(usageUrl)).json()).series.t.length, { timeout: 20_000 })
    .toBeGreaterThan(0);
  const usage = await (await engineer.request.get(usageUrl)).json();
  // Its own rollout's markers: another spec may have rolled the same indexes out (and back) on this demo before.
  const own = usage.markers.filter((m: { rolloutId: number }) => m.rolloutId === Number(rolloutId));
  expect(own.map((m: { kind: string; rolloutId: number }) => `${m.rolloutId} ${m.kind}`)).toEqual([
    `${rolloutId} apply started`,
    `${rolloutId} verified`,
  ]);
  const garbage = await engineer.request.get(usageUrl.replace("24h", "1000y"));
  expect(garbage.status()).toBe(400);
  expect((await garbage.json()).fields).toEqual([expect.stringMatching(/^range: /)]);
  await engineer.goto("/indexes/chefcloud_staging/public.idx_payments_org_status_created");
  await expect(engineer.getByTestId("usage-chart")).toContainText("rollout markers");

  // A late viewer (reload) sees the whole history.
  await dba.reload();
  await expect(dba.getByTestId("event-log").locator('li[data-kind="index_ready"]')).toHaveCount(6);

  // All of it ran as the demo's deploy role, not a superuser; the index belongs to the tables' owner.
  const target = new pg.Client({ connectionString: demoTargetUrl("chefcloud_staging") });
  await target.connect();
  try {
    const {
      rows: [me],
    } = await target.query("SELECT current_user AS who, rolsuper FROM pg_roles WHERE rolname = current_user");
    expect(me).toEqual({ who: "chefcloud_deploy", rolsuper: false });
    const {
      rows: [index],
    } = await target.query("SELECT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE relname = 'idx_payments_org_status_created'");
    expect(index.owner).toBe("chefcloud_owner");
  } finally {
    await target.end();
  }
});
