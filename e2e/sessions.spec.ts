import { SESSION_CACHE_MS } from "../lib/auth/sessions";
import { createRollout, expect, login, test } from "./helpers";

test("an admin disables a dba whose rollout page is open: the dba's next action is refused and their live stream ends", async ({
  browser,
}) => {
  test.setTimeout(120_000);
  // Two browser contexts (newPage makes one each): two people, two cookies.
  const admin = await browser.newPage();
  await login(admin, "admin");
  const dba = await browser.newPage();
  await login(dba, "dba");

  const { url, id } = await createRollout(dba, "001_franchise_indexes.sql", "chefcloud_staging");
  await admin.goto(url);
  await admin.getByLabel("Comment (required)").fill("fine by me");
  await admin.getByRole("button", { name: "Approve" }).click();
  await expect(admin.getByTestId("rollout-state")).toHaveText("approved");

  const events = (status: number) => (r: { url(): string; status(): number }) =>
    r.url().includes(`/api/rollouts/${id}/events`) && r.status() === status;
  const streamOpen = dba.waitForResponse(events(200));
  await dba.reload();
  await streamOpen;
  await expect(dba.getByTestId("event-log")).not.toBeEmpty();
  await expect(dba.getByRole("button", { name: "Run pre-check" })).toBeVisible();
  const streamRefused = dba.waitForResponse(events(401), { timeout: 60_000 });

  await admin.goto("/users");
  await admin.getByTestId("user-controls-dba").getByRole("button", { name: "Disable" }).click();
  await expect(admin.getByTestId("user-controls-dba")).toContainText("disabled dba");
  await expect(admin.locator('tr[data-user="dba"]').getByTestId("user-status")).toContainText("disabled");
  const disabledAt = Date.now();

  // The open stream is closed by the server (within its check interval plus the other servers'
  // cache), and the browser's reconnect is refused, which ends it for good.
  await streamRefused;
  // The server that disabled the dba forgot them at once; the other app server may keep its view of
  // them for SESSION_CACHE_MS. Past that, every server refuses: the dba's next action must land after it.
  await new Promise((resolve) => setTimeout(resolve, SESSION_CACHE_MS + 1000 - (Date.now() - disabledAt)));

  // The page still shows the button; pressing it is refused on the server and changes nothing.
  await dba.getByLabel("Backup id (attest)").fill("snap-1");
  await dba.getByRole("button", { name: "Run pre-check" }).click();
  await expect(dba.locator('[data-phase="precheck"] [role="status"]')).toHaveText("sign in first");
  expect((await dba.request.get(`/api/rollouts/${id}/events`)).status()).toBe(401);
  await admin.goto(url);
  await expect(admin.getByTestId("rollout-state")).toHaveText("approved");
  await dba.goto(url);
  await expect(dba).toHaveURL(/\/login/);

  // Enabled again, the dba signs in anew; the old cookie stays dead.
  await admin.goto("/users");
  await admin.getByTestId("user-controls-dba").getByRole("button", { name: "Enable" }).click();
  await expect(admin.getByTestId("user-controls-dba")).toContainText("enabled dba");
  await dba.goto(url);
  await expect(dba).toHaveURL(/\/login/);
  await login(dba, "dba");
});
