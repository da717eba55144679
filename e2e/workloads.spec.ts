import { createRollout, expect, login, test } from "./helpers";

const SQL = "CREATE INDEX CONCURRENTLY IF NOT EXISTS e2e_carry_idx ON payments (org_id, created_at);\n";
const patterns = (query: string) =>
  `-- name: e2e_latest_payments\n-- index: e2e_carry_idx\n-- params: SELECT org_id FROM payments LIMIT 50\n${query}\n`;

test("a dba uploads a change set with its query patterns: a pattern that writes is refused at its line and column, a read-only one is stored and shown where it is approved", async ({
  page,
}) => {
  await login(page, "dba");
  await page.goto("/changesets");
  await page.getByText("Upload or paste a change set").click();
  await page.getByLabel("Name").fill("e2e_carry.sql");
  await page.getByLabel("SQL", { exact: true }).fill(SQL);
  const workloads = page.getByLabel(/^Query patterns it should speed up/);
  await workloads.fill(patterns("DELETE FROM payments WHERE org_id = $1;"));
  await page.getByRole("button", { name: "Store change set" }).click();
  await expect(page.locator("#upload-status")).toHaveText(
    "Refused (422): invalid query patterns — e2e_carry.sql (query patterns):4:1: workload e2e_latest_payments: query: DeleteStmt is not a SELECT; only read-only SELECTs run on the target",
  );

  const query = "SELECT * FROM payments WHERE org_id = $1 ORDER BY created_at DESC LIMIT 10;";
  await workloads.fill(patterns(query));
  await page.getByRole("button", { name: "Store change set" }).click();
  await expect(page.locator("#upload-status")).toContainText(/^Stored db:\d+ \(sha256 [0-9a-f]{12}…\) with \d+ findings\.$/);
  const stored = page.locator('[data-changeset="e2e_carry.sql"]');
  await stored.getByText("Query patterns (hashed with the SQL)").click();
  await expect(stored.getByTestId("changeset-workloads")).toContainText(query);

  // The rollout page shows approvers both halves of what its sha256 binds.
  await createRollout(page, "e2e_carry.sql", "chefcloud_staging");
  await page.getByText("What the sha256 binds: the SQL and its query patterns").click();
  await expect(page.getByTestId("rollout-workloads")).toContainText(query);
});
