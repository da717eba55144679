import { expect, test, createRollout, demoServer, login, type DemoRole } from "./helpers";

const NAV: Record<DemoRole, string[]> = {
  admin: ["Rollouts", "Change sets", "Indexes", "Audit", "Sign-offs", "Targets", "Users", "Webhooks", "Tokens"],
  dba: ["Rollouts", "Change sets", "Indexes", "Audit", "Sign-offs", "Targets", "Tokens"],
  sre: ["Rollouts", "Change sets", "Indexes", "Audit", "Sign-offs", "Targets", "Tokens"],
  manager: ["Rollouts", "Change sets", "Indexes", "Audit", "Sign-offs", "Targets", "Tokens"],
  engineer: ["Rollouts", "Change sets", "Indexes", "Targets", "Tokens"],
};

test("a visitor without a session is sent to the login page, and an API call without one gets 401", async ({ page, request }) => {
  await page.goto("/targets");
  await expect(page).toHaveURL(/\/login\?callbackUrl=.*%2Ftargets/);
  for (const call of [
    request.get("/api/usage?target=chefcloud_staging&index=public.x&range=24h"),
    request.post("/api/changesets", { data: {} }),
  ]) {
    const res = await call;
    expect(res.status()).toBe(401);
    expect(await res.json()).toEqual({ error: "sign in first" });
  }
  // A forged session cookie gets no further.
  const forged = await request.get("/api/usage?target=chefcloud_staging&index=public.x&range=24h", {
    headers: { cookie: "next-auth.session-token=forged" },
  });
  expect(forged.status()).toBe(401);
});

test("a wrong password gets one generic message", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("Login").fill("dba");
  await page.getByLabel("Password").fill("definitely-not-it");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText("Sign-in failed. Check your login and password")).toBeVisible();
});

for (const role of Object.keys(NAV) as DemoRole[]) {
  test(`${role} signs in and sees the ${role} navigation`, async ({ page }) => {
    await login(page, role);
    const links = page.getByRole("navigation", { name: "Main" }).getByRole("link");
    await expect(links).toHaveText(NAV[role]);
  });
}

test("an engineer is refused the audit page and a dba-only action with 403, a dba is not", async ({ page, browser }) => {
  await login(page, "engineer");
  await page.goto("/audit");
  await expect(page.getByRole("heading", { name: "Not allowed" })).toBeVisible();
  await expect(page.getByText("Your role may not read the audit log")).toBeVisible();
  const refused = await page.request.post("/api/changesets", { data: { name: "e2e_engineer.sql", sql: "SELECT 1;" } });
  expect(refused.status()).toBe(403);

  const dbaPage = await browser.newPage();
  await login(dbaPage, "dba");
  const accepted = await dbaPage.request.post("/api/changesets", {
    data: { name: "e2e_dba.sql", sql: "SET lock_timeout = '2s';\nCREATE INDEX idx_pay_method ON payments (method);\n" },
  });
  expect(accepted.status()).toBe(201);
  const body = await accepted.json();
  expect(body.findings.map((f: { rule: string }) => f.rule)).toContain("require-concurrent-index-creation");
  await dbaPage.close();
});

test("the targets page shows both demo targets up with version and size, and no password", async ({ page }) => {
  await login(page, "manager");
  await page.goto("/targets");
  for (const id of ["chefcloud_staging", "chefcloud_prod"]) {
    const row = page.locator(`tr[data-target="${id}"]`);
    await expect(row).toContainText("up");
    await expect(row).toContainText(/PostgreSQL \d+\.\d+/);
    await expect(row).toContainText(/\d+(\.\d)? MB/);
    await expect(row).toContainText(`chefcloud_deploy@127.0.0.1:${demoServer().port}/${id}`); // host, port, database, user: never a secret
  }
  // The usage collector's state per target (every 2 s here; the first round may still be under way).
  await expect(async () => {
    await page.goto("/targets");
    for (const id of ["chefcloud_staging", "chefcloud_prod"]) {
      await expect(page.locator(`tr[data-target="${id}"]`).getByTestId("collector-status")).toHaveText(
        /^last snapshot \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/,
        { timeout: 1000 },
      );
    }
  }).toPass({ timeout: 20_000 });
  const html = await page.content();
  const { password } = demoServer();
  expect(html).not.toContain(password);
});

test("the change sets page shows the seed's change set with its findings on the lines", async ({ page }) => {
  await login(page, "engineer");
  await page.goto("/changesets");
  const seed = page.locator('[data-changeset="001_franchise_indexes.sql"]');
  await expect(seed).toContainText("8 statements · 6 indexes");
  await expect(seed.locator('[data-rule="statement-timeout-risk"]')).toHaveCount(6);
});

test("the indexes page lists every index of a target, and its reports on a tab", async ({ page }) => {
  await login(page, "engineer");
  await page.goto("/indexes?target=chefcloud_staging");
  await expect(page.getByTestId("index-table")).toContainText("public.payments_pkey");
  await expect(page.locator("[data-report]")).toHaveCount(0);
  await page.getByLabel("Search indexes").fill("payments_pkey");
  await page.getByLabel("Search indexes").press("Enter");
  await expect(page.getByTestId("index-table").locator("tbody tr")).toHaveCount(1);
  await page.getByRole("tab", { name: /^Reports:/ }).click();
  await expect(page.locator('[data-report="invalid"]')).toContainText("Invalid: 0");
  await expect(page.getByRole("tab", { name: /^Reports:/ })).toHaveAttribute("aria-selected", "true");
  await expect(page.getByTestId("index-table")).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Draft DROP change set" })).toHaveCount(0);
});

test("/api/metrics needs its bearer token and speaks Prometheus", async ({ request }) => {
  expect((await request.get("/api/metrics")).status()).toBe(401);
  const ok = await request.get("/api/metrics", { headers: { authorization: "Bearer e2e-metrics-token" } });
  expect(ok.status()).toBe(200);
  expect(await ok.text()).toContain("# TYPE indexdeck_rollouts gauge");
});

test("the home page answers whether everything is all right: each target's health and what waits on the viewer, with links", async ({
  browser,
}) => {
  const sre = await browser.newPage();
  await login(sre, "sre");
  const { id } = await createRollout(sre, "001_franchise_indexes.sql", "chefcloud_staging");
  const dba = await browser.newPage();
  await login(dba, "dba");
  await dba.goto("/");
  const approvals = dba.locator('[data-attention="approvals"]');
  await expect(approvals.getByTestId("approvals-count")).toHaveText(String(await approvals.locator("li").count()));
  await expect(approvals.getByRole("link", { name: new RegExp(`^#${id} 001_franchise_indexes.sql`) })).toBeVisible();
  // Per target: up and its version, the collector, INVALID indexes (a link to the report), the last outcome.
  const staging = dba.getByTestId("fleet").locator('tr[data-target="chefcloud_staging"]');
  await expect(staging.getByTestId("server")).toContainText(/up, PostgreSQL \d+/);
  await expect(staging.getByTestId("collector")).toContainText(/last snapshot \d{4}-\d\d-\d\d/, { timeout: 15_000 });
  await expect(staging.getByTestId("invalid").getByRole("link", { name: "0", exact: true })).toHaveAttribute(
    "href",
    "/indexes?target=chefcloud_staging&tab=reports&show=invalid",
  );
  await approvals.getByRole("link", { name: new RegExp(`^#${id} `) }).click();
  await expect(dba).toHaveURL(new RegExp(`/rollouts/${id}$`));
  // The requester is not asked to approve their own rollout.
  await sre.goto("/");
  await expect(sre.locator('[data-attention="approvals"]').getByRole("link", { name: new RegExp(`^#${id} `) })).toHaveCount(0);
  // An engineer approves nothing and signs nothing off: those sections are not theirs.
  const engineer = await browser.newPage();
  await login(engineer, "engineer");
  await engineer.goto("/");
  await expect(engineer.getByTestId("fleet")).toBeVisible();
  await expect(engineer.locator('[data-attention="approvals"]')).toHaveCount(0);
  await expect(engineer.locator('[data-attention="signoffs"]')).toHaveCount(0);
  await expect(engineer.locator('[data-attention="followups"]')).toHaveCount(0);
});
