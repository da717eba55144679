import { expect, test, login } from "./helpers";

test("an admin changes a target's policy with a reason; bad lines are named; the change is versioned and audited; a dba gets 403", async ({
  browser,
}) => {
  const admin = await browser.newPage();
  await login(admin, "admin");
  await admin.goto("/targets");
  await admin.getByRole("link", { name: "ChefCloud staging" }).click();
  await expect(admin.getByTestId("policy-current")).toContainText("as in the targets file");

  // A bad window line: named by field and line, and nothing is saved.
  const form = admin.getByTestId("policy-form");
  const windows = form.getByLabel(/Maintenance windows/);
  const original = await windows.inputValue();
  await windows.fill(`${original}\nfunday 02:00-04:00 UTC`);
  await form.getByLabel(/Reason/).fill("add a weekend window");
  await form.getByRole("button", { name: "Save new version" }).click();
  await expect(admin.getByTestId("policy-errors")).toContainText(/maintenance windows, line \d+ \(days\.0\)/);
  await admin.reload();
  await expect(admin.getByTestId("policy-current")).toContainText("as in the targets file");

  // A freeze long from now, so the other tests' applies are unaffected.
  await form.getByLabel(/Freezes/).fill("2099-12-20T00:00:00Z 2100-01-04T00:00:00Z <b>year-end</b> freeze");
  await form.getByLabel(/Reason/).fill("year-end freeze agreed with the app teams");
  await form.getByRole("button", { name: "Save new version" }).click();
  await expect(form.getByRole("status")).toHaveText(/saved version 1 of the chefcloud_staging policy/);
  await admin.reload();
  await expect(admin.getByTestId("policy-current")).toContainText("version 1, by admin");
  await expect(admin.getByTestId("policy-history")).toContainText("year-end freeze agreed with the app teams");
  await expect(admin.getByTestId("policy-history")).toContainText("<b>year-end</b> freeze"); // text, not markup

  await admin.goto("/audit?action=policy.change");
  await expect(admin.locator("tbody tr").filter({ hasText: "policy.change" }).filter({ hasText: "chefcloud_staging" })).toHaveCount(1);

  // A dba reads the policy but cannot change it, in the page or by posting directly.
  const dba = await browser.newPage();
  await login(dba, "dba");
  await dba.goto("/targets/chefcloud_staging");
  await expect(dba.getByTestId("policy-current")).toContainText("version 1");
  await expect(dba.getByTestId("policy-form")).toHaveCount(0);
  const current = await (await dba.request.get("/api/targets/chefcloud_staging/policy")).json();
  const post = await dba.request.post("/api/targets/chefcloud_staging/policy", {
    data: { policy: { ...current.policy, freezes: [] }, reason: "lift it", basedOn: current.version },
  });
  expect(post.status()).toBe(403);
  // The admin's stale form (based on version 0) is refused over the API too.
  const stale = await admin.request.post("/api/targets/chefcloud_staging/policy", {
    data: { policy: current.policy, reason: "old tab", basedOn: 0 },
  });
  expect(stale.status()).toBe(409);
});
