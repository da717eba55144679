import { readFileSync, writeFileSync } from "node:fs";
import pg from "pg";
import { test as base, expect, type Browser, type BrowserContext, type Page } from "@playwright/test";

/**
 * Every spec's `test`: fails a test during which any page of any of its browser contexts (the default
 * one and those it opens with browser.newPage/newContext) broke the Content-Security-Policy, so a
 * policy the app doesn't actually work under can't pass unnoticed. The page reports each
 * `securitypolicyviolation` event through a binding (which runs outside the page's policy), and
 * Chromium's console errors for refused resources are caught as well.
 */
export const test = base.extend<{ cspViolations: string[] }>({
  cspViolations: [
    async ({ browser }, run) => {
      const violations: string[] = [];
      const restore = watchNewContexts(browser, violations);
      await run(violations);
      restore();
      expect(violations, "Content-Security-Policy violations").toEqual([]);
    },
    { auto: true },
  ],
  context: async ({ context, cspViolations }, run) => {
    await watchCsp(context, cspViolations);
    await run(context);
  },
});
export { expect };

const watched = new WeakSet<BrowserContext>();

async function watchCsp(context: BrowserContext, violations: string[]): Promise<void> {
  // The default context may come through the patched browser.newContext and the context fixture both.
  if (watched.has(context)) return;
  watched.add(context);
  await context.exposeBinding(
    "__indexdeckCspViolation",
    ({ page }, v: { directive: string; blocked: string; source: string; line: number; sample: string }) => {
      violations.push(`${page?.url()}: ${v.directive} refused ${v.blocked || "inline"} (${v.source}:${v.line}) ${v.sample}`);
    },
  );
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      (window as unknown as { __indexdeckCspViolation(v: unknown): void }).__indexdeckCspViolation({
        directive: e.effectiveDirective,
        blocked: e.blockedURI,
        source: e.sourceFile,
        line: e.lineNumber,
        sample: e.sample,
      });
    });
  });
  context.on("console", (msg) => {
    if (msg.type() === "error" && msg.text().includes("Content Security Policy")) violations.push(`${msg.page()?.url()}: ${msg.text()}`);
  });
}

/** Watches the contexts a test opens itself, until it ends. */
function watchNewContexts(browser: Browser, violations: string[]): () => void {
  const original = browser.newContext;
  browser.newContext = async (...args: Parameters<Browser["newContext"]>) => {
    const context = await original.apply(browser, args);
    await watchCsp(context, violations);
    return context;
  };
  return () => {
    browser.newContext = original;
  };
}

export type DemoRole = "admin" | "dba" | "sre" | "manager" | "engineer";
export const ROLES: DemoRole[] = ["admin", "dba", "sre", "manager", "engineer"];

/** Passwords the demo launcher generated for this run (written only for tests, mode 0600). */
export function demoPassword(role: DemoRole): string {
  return JSON.parse(readFileSync(".indexdeck-e2e/logins.json", "utf8"))[role];
}

/** The e2e run's embedded PostgreSQL (port and superuser password), which holds the store and both demo targets. */
export function demoServer(): { port: number; password: string } {
  return JSON.parse(readFileSync(".indexdeck-e2e/embedded.json", "utf8"));
}

const TARGETS_FILE = ".indexdeck-e2e/targets.json";

/**
 * Adds a target to the e2e run's targets file, a copy of chefcloud_staging with `fields` laid over it;
 * returns what puts the file back. The app reads the file as it is now (by size and time): no restart.
 */
export function addDemoTarget(fields: Record<string, unknown>): () => void {
  const original = readFileSync(TARGETS_FILE, "utf8");
  const file = JSON.parse(original);
  const staging = file.targets.find((t: { id: string }) => t.id === "chefcloud_staging");
  file.targets.push({ ...staging, ...fields });
  writeFileSync(TARGETS_FILE, JSON.stringify(file, null, 2));
  return () => writeFileSync(TARGETS_FILE, original);
}

/** A demo target's connection URL as the launcher wrote it (the role the app connects as). */
export function demoTargetUrl(id: string): string {
  const { targets } = JSON.parse(readFileSync(TARGETS_FILE, "utf8")) as { targets: Array<{ id: string; url: string }> };
  return targets.find((t) => t.id === id)!.url;
}

/** Rows of a query on one of the e2e run's databases (the store, or a demo target's), as the embedded server's superuser. */
export async function superuserRows<T>(database: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const { port, password } = demoServer();
  const db = new pg.Client({ connectionString: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}` });
  await db.connect();
  try {
    return (await db.query(sql, params)).rows as T[];
  } finally {
    await db.end();
  }
}

/** Rows of a query on the e2e run's store: what a test checks the pages against. */
export function storeRows<T>(sql: string, params: unknown[] = []): Promise<T[]> {
  return superuserRows<T>("indexdeck", sql, params);
}

/** Signs in through the form; `timeout` for sweeps that may meet a cold server first. */
export async function login(page: Page, role: DemoRole, timeout?: number) {
  await page.goto("/login");
  await page.getByLabel("Login").fill(role);
  await page.getByLabel("Password").fill(demoPassword(role));
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("who")).toHaveText(`${role} · ${role}`, { timeout });
}

/** A page signed in as `role` in a browser context of its own (time zone, colour scheme…). */
export async function signedIn(browser: Browser, role: DemoRole, options: Parameters<Browser["newContext"]>[0] = {}): Promise<Page> {
  const page = await (await browser.newContext(options)).newPage();
  await login(page, role, 15_000);
  return page;
}

/** Creates a rollout of a repository change set on a target from the Rollouts page; returns its URL and id. */
export async function createRollout(page: Page, changeSet: string, target: string): Promise<{ url: string; id: string }> {
  await page.goto("/rollouts");
  await page.getByLabel("Change set").selectOption({ label: await page.locator("option", { hasText: changeSet }).innerText() });
  await page.getByLabel("Target").selectOption(target);
  await page.getByRole("button", { name: "Create rollout" }).click();
  await expect(page).toHaveURL(/\/rollouts\/\d+$/);
  return { url: page.url(), id: page.url().split("/").pop()! };
}
