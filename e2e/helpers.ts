import { readFileSync } from "node:fs";
import { expect, type Page } from "@playwright/test";

export type DemoRole = "admin" | "dba" | "sre" | "manager" | "engineer";

/** Passwords the demo launcher generated for this run (written only for tests, mode 0600). */
export function demoPassword(role: DemoRole): string {
  return JSON.parse(readFileSync(".indexdeck-e2e/logins.json", "utf8"))[role];
}

/** The e2e run's embedded PostgreSQL (port and superuser password), which holds the store and both demo targets. */
export function demoServer(): { port: number; password: string } {
  return JSON.parse(readFileSync(".indexdeck-e2e/embedded.json", "utf8"));
}

/** A demo target's connection URL as the launcher wrote it (the role the app connects as). */
export function demoTargetUrl(id: string): string {
  const { targets } = JSON.parse(readFileSync(".indexdeck-e2e/targets.json", "utf8")) as { targets: Array<{ id: string; url: string }> };
  return targets.find((t) => t.id === id)!.url;
}

export async function login(page: Page, role: DemoRole) {
  await page.goto("/login");
  await page.getByLabel("Login").fill(role);
  await page.getByLabel("Password").fill(demoPassword(role));
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("who")).toHaveText(`${role} · ${role}`);
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
