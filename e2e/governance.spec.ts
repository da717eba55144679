import { expect, test, createRollout, login } from "./helpers";

test("production: four eyes, window override, sign-off, history and CSV for the manager; engineers get 403", async ({ browser }) => {
  test.setTimeout(180_000);
  const sre = await browser.newPage();
  await login(sre, "sre");
  const { url, id } = await createRollout(sre, "001_franchise_indexes.sql", "chefcloud_prod");
  await expect(sre.getByTestId("rollout-state")).toHaveText("awaiting_approval");
  const sha = (
    await sre
      .locator("code")
      .filter({ hasText: /^[0-9a-f]{64}$/ })
      .first()
      .innerText()
  ).trim();
  const approval = { decision: "approve", comment: "looks right", changesetSha256: sha, targetId: "chefcloud_prod" };

  // The requester cannot approve, even by posting directly.
  const own = await sre.request.post(`/api/rollouts/${id}/approve`, { data: approval });
  expect(own.status()).toBe(422);
  expect((await own.json()).error).toMatch(/you requested this rollout/);

  const dba = await browser.newPage();
  await login(dba, "dba");
  await dba.goto(url);
  await dba.getByLabel("Comment (required)").fill("<b>ok</b><script>window.__pwned = 1</script>");
  await dba.getByRole("button", { name: "Approve" }).click();
  await expect(dba.getByTestId("approvals")).toContainText("1 of 2");
  // Comments are text, never markup.
  await expect(dba.getByTestId("approvals")).toContainText("<b>ok</b><script>window.__pwned = 1</script>");
  expect(await dba.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  const twice = await dba.request.post(`/api/rollouts/${id}/approve`, { data: approval });
  expect(twice.status()).toBe(409);
  expect((await twice.json()).error).toMatch(/dba has already decided/);

  const engineer = await browser.newPage();
  await login(engineer, "engineer");
  expect((await engineer.request.post(`/api/rollouts/${id}/approve`, { data: approval })).status()).toBe(403);

  const admin = await browser.newPage();
  await login(admin, "admin");
  await admin.goto(url);
  await admin.getByLabel("Comment (required)").fill("second pair of eyes");
  await admin.getByRole("button", { name: "Approve" }).click();
  await expect(admin.getByTestId("rollout-state")).toHaveText("approved");

  // Outside the window: pre-check fails and apply is refused.
  await dba.reload();
  await dba.getByLabel("Backup id (attest)").fill("prod-snap-7");
  await dba.getByRole("button", { name: "Run pre-check" }).click();
  await expect(dba.locator('[data-check="maintenance-window"]')).toContainText("fail", { timeout: 30_000 });
  await expect(dba.locator('[data-check="maintenance-window"]')).toContainText("outside the maintenance window");
  expect((await dba.request.post(`/api/rollouts/${id}/apply`, { data: {} })).status()).toBe(409);

  // An admin overrides the window and waives staging-first, in writing.
  await admin.reload();
  await admin.getByLabel("Backup id (attest)").fill("prod-snap-7");
  await admin.getByLabel("Override maintenance window (reason)").fill("incident INC-42 needs these indexes now");
  await admin.getByLabel("Waive staging-first (reason)").fill("staging verified the same SQL last week");
  await admin.getByRole("button", { name: "Run pre-check" }).click();
  await expect(admin.getByTestId("rollout-state")).toHaveText("prechecked", { timeout: 30_000 });
  await expect(admin.locator('[data-check="maintenance-window"]')).toContainText("overridden by admin: incident INC-42");

  await dba.reload();
  await dba.getByRole("button", { name: "Apply" }).click();
  await expect(dba.getByTestId("rollout-state")).toHaveText("verified", { timeout: 60_000 });

  const form = dba.getByTestId("signoff-form");
  await expect(form.locator('[data-item="concurrently"]')).toContainText("yes");
  await expect(form.locator('[data-item="p95"]')).toContainText("measured p95");
  for (const item of ["off-peak", "backup", "monitoring-access", "rollback-reviewed", "no-error-spikes"]) {
    await form.locator(`[data-item="${item}"] input[type=checkbox]`).check();
  }
  await form.getByLabel("Decision").selectOption("signed_off");
  await form.getByLabel("Notes").fill("done during INC-42");
  await form.getByRole("button", { name: "Record sign-off" }).click();
  await expect(dba.getByTestId("rollout-state")).toHaveText("signed_off");

  // The completion report, generated from evidence: the measured p95 table, the chain verdict,
  // the same numbers in the Markdown download, and a print view without navigation.
  await dba.goto(`/report/${id}`);
  const reportRows = dba.getByTestId("report-latency").locator("tbody tr");
  await expect(reportRows).toHaveCount(6);
  await expect(dba.getByTestId("report-chain")).toContainText("intact");
  const markdown = await (await dba.request.get(`/api/rollouts/${id}/report`)).text();
  for (const row of await reportRows.all()) {
    const cells = await row.locator("td").allInnerTexts();
    // Names are Markdown-escaped (franchise\_budgets); the numbers are exactly the page's.
    expect(markdown).toContain(`| ${cells[0].replace(/_/g, "\\_")} | ${cells[1]} | ${cells[2]} | ${cells[3]} |`);
  }
  expect(markdown).toContain("**signed off** by dba (dba)");
  await dba.emulateMedia({ media: "print" });
  await expect(dba.locator("header.shell")).toHaveCount(0);
  await expect(dba.getByRole("link", { name: "Download Markdown" })).toBeHidden();
  await dba.screenshot({ path: "test-results/report-print.png", fullPage: true });
  await dba.emulateMedia({ media: "screen" });

  // The report follows the roles table: the manager reads the override, the sign-off notes and the
  // audit trail; the engineer reads the same report without them, on the page and in the Markdown.
  const manager = await browser.newPage();
  await login(manager, "manager");
  const managerMarkdown = await (await manager.request.get(`/api/rollouts/${id}/report`)).text();
  expect(managerMarkdown).toContain("incident INC-42 needs these indexes now");
  expect(managerMarkdown).toContain("Notes: done during INC-42");
  expect(managerMarkdown).toMatch(/\| rollout\.signoff \| `[0-9a-f]{64}` \|/);
  await engineer.goto(`/report/${id}`);
  await expect(engineer.getByTestId("report-latency").locator("tbody tr")).toHaveCount(6);
  await expect(engineer.getByTestId("report-chain")).toHaveText("Not shown: role engineer may not read the audit log (audit:read).");
  await expect(engineer.getByTestId("report")).not.toContainText("INC-42");
  await engineer.goto(url);
  await expect(engineer.locator('[data-check="maintenance-window"]')).toContainText("overridden or waived in writing");
  await expect(engineer.locator("main")).not.toContainText("INC-42");
  const engineerMarkdown = await (await engineer.request.get(`/api/rollouts/${id}/report`)).text();
  expect(engineerMarkdown).toContain("**signed off** by dba (dba)");
  expect(engineerMarkdown).not.toContain("INC-42");
  expect(engineerMarkdown).not.toMatch(/`[0-9a-f]{64}` \|/);

  await manager.goto("/signoffs?target=chefcloud_prod&decision=signed_off");
  const row = manager
    .getByTestId("signoffs")
    .locator("tbody tr")
    .filter({ hasText: `#${id}` });
  await expect(row).toContainText("dba (dba)");
  await row.getByRole("link").first().click();
  await expect(manager.getByTestId("checklist")).toContainText("Off-peak window scheduled");
  await expect(manager.getByText(/chain intact/)).toBeVisible();

  await manager.goto(`/audit?target=chefcloud_prod`);
  const [download] = await Promise.all([manager.waitForEvent("download"), manager.getByRole("link", { name: "Download CSV" }).click()]);
  const csv = await (await import("node:fs/promises")).readFile((await download.path())!, "utf8");
  expect(csv.split("\n")[0]).toBe(
    "id,at,actor,role,action,targetId,rolloutId,changesetSha256,details,prevHash,hash,scheme,contentHash,mac",
  );
  for (const action of ["rollout.approve", "rollout.window.override", "rollout.promotion.waive", "rollout.signoff"])
    expect(csv).toContain(`"${action}"`);
  const garbage = await manager.request.get("/api/audit/export?from=last-tuesday");
  expect(garbage.status()).toBe(400);
  expect((await garbage.json()).fields).toEqual([expect.stringMatching(/^from: /)]);
  const hash =
    (await manager.goto(`/audit?target=chefcloud_prod&action=rollout.signoff`),
    await manager.getByTestId("audit-rows").locator("tbody tr").first().locator("code[title]").getAttribute("title"));
  expect(csv).toContain(hash!);
});
