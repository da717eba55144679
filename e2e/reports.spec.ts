import { expect, test, login, superuserRows } from "./helpers";

/** The demo's staging target, reached directly to give its report something to find. */
async function onStaging(sql: string): Promise<void> {
  await superuserRows("chefcloud_staging", sql);
}

test("an sre drafts a DROP change set from a duplicate index finding; it lands among the change sets, linted", async ({ page }) => {
  // A copy of the primary key's index: a duplicate, and the copy (not the constraint's index) is what may go.
  await onStaging("CREATE INDEX IF NOT EXISTS e2e_payments_id_copy ON payments (id)");
  try {
    await login(page, "sre");
    const finding = page.locator('[data-report="duplicate"] tr').filter({ hasText: "public.e2e_payments_id_copy" });
    // The page's report is re-read once per collector interval (2 s here).
    await expect(async () => {
      await page.goto("/indexes?target=chefcloud_staging&tab=reports&show=duplicate");
      await expect(finding).toHaveCount(1, { timeout: 1000 });
    }).toPass({ timeout: 20_000 });
    await expect(page.locator('[data-report="duplicate"] tr').filter({ hasText: "public.payments_pkey" })).toHaveCount(0);
    await finding.getByRole("button", { name: "Draft DROP change set" }).click();

    await expect(page).toHaveURL(/\/changesets$/);
    const draft = page.locator('[data-changeset^="drop_e2e_payments_id_copy_"]');
    await expect(draft).toContainText('DROP INDEX CONCURRENTLY IF EXISTS "public"."e2e_payments_id_copy";');
    await expect(draft).toContainText("0 errors");
    await expect(draft).toContainText("uploaded by sre");
  } finally {
    await onStaging("DROP INDEX IF EXISTS e2e_payments_id_copy");
  }
});

test("an index whose name holds quotes, a backslash, -- and */ is drafted as a DROP of exactly that index, which lints clean", async ({
  page,
}) => {
  const name = `e2e_it's "q" \\ -- */`;
  const quoted = `"${name.replace(/"/g, '""')}"`;
  await onStaging(`CREATE INDEX IF NOT EXISTS ${quoted} ON payments (id)`);
  try {
    await login(page, "sre");
    const finding = page.locator('[data-report="duplicate"] tr').filter({ hasText: `public.${name}` });
    await expect(async () => {
      await page.goto("/indexes?target=chefcloud_staging&tab=reports&show=duplicate");
      await expect(finding).toHaveCount(1, { timeout: 1000 });
    }).toPass({ timeout: 20_000 });
    await finding.getByRole("button", { name: "Draft DROP change set" }).click();

    await expect(page).toHaveURL(/\/changesets$/);
    // The name is the index's with everything but letters, digits and _ replaced, and a digest of the real one.
    const draft = page.locator('[data-changeset^="drop_e2e_it_s__q_"]');
    await expect(draft).toContainText(`DROP INDEX CONCURRENTLY IF EXISTS "public".${quoted};`);
    await expect(draft).toContainText("0 errors");
  } finally {
    await onStaging(`DROP INDEX IF EXISTS ${quoted}`);
  }
});
