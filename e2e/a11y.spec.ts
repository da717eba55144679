import { readdirSync } from "node:fs";
import { join } from "node:path";
import AxeBuilder from "@axe-core/playwright";
import type { Browser, Locator, Page } from "@playwright/test";
import { expect, test, demoPassword, signedIn, storeRows, ROLES, type DemoRole } from "./helpers";

/** Every page.tsx under app/, as its route: `(group)` folders dropped, `[param]` segments kept. */
function pageRoutes(dir = "app", route = ""): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    if (d.isFile()) return d.name === "page.tsx" ? [route || "/"] : [];
    if (!d.isDirectory() || d.name === "api") return [];
    return pageRoutes(join(dir, d.name), /^\(.*\)$/.test(d.name) ? route : `${route}/${d.name}`);
  });
}

/**
 * The keyboard alone: Tab (or Shift+Tab) until `target` has the focus, never more than `limit` presses,
 * and the focused element must show it (an outline the eye can see).
 */
async function tabTo(page: Page, target: Locator, { back = false, limit = 120 } = {}) {
  for (let i = 0; i < limit; i++) {
    if (await target.evaluate((el) => el === document.activeElement).catch(() => false)) {
      const outline = await target.evaluate((el) => {
        const s = getComputedStyle(el);
        return { style: s.outlineStyle, width: parseFloat(s.outlineWidth) };
      });
      expect(outline.style, `visible focus on ${target}`).not.toBe("none");
      expect(outline.width, `visible focus on ${target}`).toBeGreaterThanOrEqual(1);
      return;
    }
    await page.keyboard.press(back ? "Shift+Tab" : "Tab");
  }
  throw new Error(`${limit} presses of ${back ? "Shift+Tab" : "Tab"} never reached ${target}`);
}

async function keyboardLogin(browser: Browser, role: DemoRole): Promise<Page> {
  const page = await browser.newPage();
  await page.goto("/login");
  // Password first, then back to the login with Shift+Tab: the order works both ways.
  await tabTo(page, page.getByLabel("Password"));
  await page.keyboard.type(demoPassword(role));
  await tabTo(page, page.getByLabel("Login"), { back: true });
  await page.keyboard.type(role);
  await tabTo(page, page.getByRole("button", { name: "Sign in" }));
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("who")).toHaveText(`${role} · ${role}`, { timeout: 15_000 });
  return page;
}

test("the whole rollout flow works with the keyboard alone, focus always visible", async ({ browser }) => {
  test.setTimeout(240_000);
  const sre = await keyboardLogin(browser, "sre");
  await tabTo(sre, sre.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Rollouts" }));
  await sre.keyboard.press("Enter");
  await expect(sre).toHaveURL(/\/rollouts$/);
  // A closed select picks an option by typing its first letters, as a keyboard user does.
  await tabTo(sre, sre.getByLabel("Change set"));
  await sre.keyboard.type("001_franchise_indexes.sql");
  await expect(sre.getByLabel("Change set").locator("option:checked")).toContainText("001_franchise_indexes.sql");
  await tabTo(sre, sre.getByLabel("Target"));
  await sre.keyboard.type("chefcloud_staging");
  await expect(sre.getByLabel("Target")).toHaveValue("chefcloud_staging");
  await tabTo(sre, sre.getByRole("button", { name: "Create rollout" }));
  await sre.keyboard.press("Enter");
  await expect(sre).toHaveURL(/\/rollouts\/\d+$/);
  await expect(sre.getByTestId("rollout-state")).toHaveText("awaiting_approval");
  const url = sre.url();

  const dba = await keyboardLogin(browser, "dba");
  await dba.goto(url);
  const state = dba.getByTestId("rollout-state");
  await tabTo(dba, dba.getByLabel("Comment (required)"));
  await dba.keyboard.type("reviewed with the keyboard");
  await tabTo(dba, dba.getByRole("button", { name: "Approve" }));
  await dba.keyboard.press("Space");
  await expect(state).toHaveText("approved");

  await tabTo(dba, dba.getByLabel("Backup id (attest)"));
  await dba.keyboard.type("snap-keyboard-001");
  await tabTo(dba, dba.getByRole("button", { name: "Run pre-check" }));
  await dba.keyboard.press("Enter");
  await expect(state).toHaveText("prechecked", { timeout: 90_000 });

  await tabTo(dba, dba.getByRole("button", { name: "Apply" }));
  await dba.keyboard.press("Enter");
  // Verify follows apply on its own.
  await expect(state).toHaveText("verified", { timeout: 120_000 });

  const form = dba.getByTestId("signoff-form");
  const attestations = form.getByRole("checkbox", { name: "I attest" });
  for (const box of await attestations.all()) {
    await tabTo(dba, box);
    await dba.keyboard.press("Space");
    await expect(box).toBeChecked();
  }
  await tabTo(dba, form.getByLabel("Notes"));
  await dba.keyboard.type("signed off with the keyboard");
  await tabTo(dba, form.getByRole("button", { name: "Record sign-off" }));
  await dba.keyboard.press("Enter");
  await expect(state).toHaveText("signed_off");

  // The specs share one demo: staging goes back to having none of the seed's indexes. The sign-off
  // form is gone; the roll back form is above where it was, so back it is.
  await tabTo(dba, dba.getByLabel("Reason (required)"), { back: true });
  await dba.keyboard.type("e2e a11y: leave staging as it was");
  await tabTo(dba, dba.getByRole("button", { name: "Roll back" }));
  await dba.keyboard.press("Enter");
  await expect(state).toHaveText("rolled_back", { timeout: 90_000 });
});

/** Every page of the app, dynamic routes filled in with what the store holds. */
async function everyPage(): Promise<string[]> {
  const [rollout] = await storeRows<{ id: number | null }>("SELECT max(id) AS id FROM rollout");
  const [signoff] = await storeRows<{ id: number | null }>("SELECT max(id) AS id FROM signoff");
  expect(rollout.id, "a rollout to look at (the keyboard flow above makes one)").not.toBeNull();
  expect(signoff.id, "a sign-off to look at (the keyboard flow above makes one)").not.toBeNull();
  const [index] = await storeRows<{ key: string }>(
    "SELECT index_key AS key FROM usage_last WHERE target_id = 'chefcloud_staging' ORDER BY index_key LIMIT 1",
  );
  expect(index, "an index the collector has seen on staging").toBeDefined();
  // Each dynamic route, filled in: a new page with parameters fails here until it is given values.
  const filled: Record<string, string> = {
    "/rollouts/[id]": `/rollouts/${rollout.id}`,
    "/report/[id]": `/report/${rollout.id}`,
    "/signoffs/[id]": `/signoffs/${signoff.id}`,
    "/targets/[id]": "/targets/chefcloud_prod",
    "/indexes/[target]/[index]": `/indexes/chefcloud_staging/${encodeURIComponent(index.key)}`,
  };
  const routes = pageRoutes().map((r) => filled[r] ?? r);
  for (const r of routes) expect(r, `a value for each parameter of ${r}`).not.toMatch(/\[/);
  expect(routes.length).toBeGreaterThanOrEqual(18);
  return routes;
}

/** Serious and critical axe findings on each page, as `route: rule (impact) help: elements`. */
async function axeFindings(page: Page, routes: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const route of routes) {
    await page.goto(route);
    await page.waitForLoadState("load");
    const { violations } = await new AxeBuilder({ page }).analyze();
    for (const v of violations.filter((x) => x.impact === "serious" || x.impact === "critical"))
      found.push(`${route}: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  }
  return found;
}

// A page shows each role its own buttons and forms: each role gets the whole sweep. The dark theme's
// colours are checked on the pages as admin, who sees the most of them.
for (const [role, colorScheme] of [...ROLES.map((r) => [r, "light"] as const), ["admin", "dark"] as const]) {
  test(`axe: every page, as ${role}, ${colorScheme} theme: no serious or critical violations`, async ({ browser }) => {
    test.setTimeout(600_000);
    const routes = await everyPage();
    const page = await signedIn(browser, role, { colorScheme });
    expect(await axeFindings(page, routes)).toEqual([]);
  });
}
