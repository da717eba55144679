import { readFileSync } from "node:fs";
import { expect, type Page } from "@playwright/test";

export type DemoRole = "admin" | "dba" | "sre" | "manager" | "engineer";

/** Passwords the demo launcher generated for this run (written only for tests, mode 0600). */
export function demoPassword(role: DemoRole): string {
  return JSON.parse(readFileSync(".indexdeck-e2e/logins.json", "utf8"))[role];
}

export async function login(page: Page, role: DemoRole) {
  await page.goto("/login");
  await page.getByLabel("Login").fill(role);
  await page.getByLabel("Password").fill(demoPassword(role));
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("who")).toHaveText(`${role} · ${role}`);
}
