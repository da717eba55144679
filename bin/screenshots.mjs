#!/usr/bin/env node
// The README's screenshots, taken from a running demo so they can be refreshed:
//   npm run screenshots                      starts a demo of its own (data in .indexdeck-shots/), takes them, stops it
//   npm run screenshots -- --base-url URL --logins FILE   uses a demo that runs already
// Options: --out DIR (default docs/screenshots), --port N (own demo, default 3600), --quick (the home page only:
// the e2e suite runs it so to prove the script works without a whole rollout).
// The rollout it makes on chefcloud_staging is rolled back at the end: the demo is left as it was.
import { spawn } from "node:child_process";
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "@playwright/test";
import { tsImport } from "tsx/esm/api";

const { values: opts } = parseArgs({
  options: {
    "base-url": { type: "string" },
    logins: { type: "string" },
    out: { type: "string", default: "docs/screenshots" },
    port: { type: "string", default: "3600" },
    quick: { type: "boolean", default: false },
  },
});
if (!!opts["base-url"] !== !!opts.logins) {
  console.error("screenshots: --base-url and --logins go together (a running demo and its logins file)");
  process.exit(2);
}

const log = (m) => console.log(`[screenshots] ${m}`);
// The same Chromium and flags as the e2e suite.
// (tsx loads the .ts as CommonJS in this package: its default export arrives one level down.)
const configModule = await tsImport("../playwright.config.ts", import.meta.url);
const pwConfig = configModule.default.default ?? configModule.default;

const DATA_DIR = ".indexdeck-shots";
let demo = null;
let baseURL = opts["base-url"];
let loginsFile = opts.logins;
if (!baseURL) {
  baseURL = `http://localhost:${opts.port}`;
  loginsFile = path.join(DATA_DIR, "logins.json");
  log(`starting the demo on ${baseURL} (data in ${DATA_DIR}/)`);
  // A staging big enough that a concurrent build shows progress for a few seconds; a small production.
  demo = spawn(
    process.execPath,
    [
      "bin/demo.mjs",
      "--data-dir",
      DATA_DIR,
      "--port",
      opts.port,
      "--rows",
      "20000",
      "--staging-rows",
      "1000000",
      "--logins-file",
      loginsFile,
    ],
    { stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", INDEXDECK_POLL_MS: "200" } },
  );
  demo.on("exit", (code) => {
    if (code) log(`the demo exited with ${code}`);
  });
  await waitForServer(`${baseURL}/login`, 600_000);
}

const browser = await chromium.launch(pwConfig.use.launchOptions);
try {
  const logins = JSON.parse(await readFile(loginsFile, "utf8"));
  await mkdir(opts.out, { recursive: true });
  const shot = (name) => path.join(opts.out, `${name}.png`);
  const dba = await signIn("dba");

  if (!opts.quick) {
    const sre = await signIn("sre");
    await sre.goto("/rollouts");
    const changeSet = sre.getByLabel("Change set");
    await changeSet.selectOption({
      label: await changeSet.locator("option", { hasText: "001_franchise_indexes.sql" }).first().innerText(),
    });
    await sre.getByLabel("Target").selectOption("chefcloud_staging");
    await sre.getByRole("button", { name: "Create rollout" }).click();
    await sre.waitForURL(/\/rollouts\/\d+$/);
    const url = sre.url();
    log(`rollout ${url}`);

    await dba.goto(url);
    const state = dba.getByTestId("rollout-state");
    await dba.getByLabel("Comment (required)").fill("reviewed: six concurrent indexes");
    await dba.getByRole("button", { name: "Approve" }).click();
    await waitForText(state, "approved", 30_000);
    await dba.getByLabel("Backup id (attest)").fill("snap-readme-001");
    await dba.getByRole("button", { name: "Run pre-check" }).click();
    await waitForText(state, "prechecked", 120_000);
    await dba.getByRole("button", { name: "Apply" }).click();
    // Mid-build: a progress bar part of the way, and the timeline drawing it.
    await dba.waitForFunction(
      () =>
        [...document.querySelectorAll('[role="progressbar"]')].some((b) => {
          const v = Number(b.getAttribute("aria-valuenow"));
          return v >= 20 && v <= 80;
        }),
      null,
      { timeout: 120_000, polling: 50 },
    );
    await dba.screenshot({ path: shot("rollout-mid-build"), fullPage: true });
    log(`wrote ${shot("rollout-mid-build")}`);
    await waitForText(state, "verified", 300_000);
    await dba.reload();
    const p95 = dba.getByTestId("latency-chart").locator("xpath=ancestor::div[contains(@class, 'card')][1]");
    await p95.scrollIntoViewIfNeeded();
    await p95.screenshot({ path: shot("p95-chart") });
    log(`wrote ${shot("p95-chart")}`);
    // The home page while the rollout is verified and waits for its sign-off.
    await homeShot();
    await dba.goto(url);

    await dba.getByLabel("Reason (required)").fill("README screenshots taken: leave staging as it was");
    await dba.getByRole("button", { name: "Roll back" }).click();
    await waitForText(state, "rolled_back", 120_000);
    await sre.context().close();
  } else {
    await homeShot();
  }

  async function homeShot() {
    await dba.goto("/");
    await dba.getByTestId("fleet").waitFor();
    await dba.screenshot({ path: shot("home"), fullPage: true });
    log(`wrote ${shot("home")}`);
  }

  async function signIn(role) {
    const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 900 }, colorScheme: "light" });
    const page = await context.newPage();
    await page.goto("/login");
    await page.getByLabel("Login").fill(role);
    await page.getByLabel("Password").fill(logins[role]);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByTestId("who").waitFor();
    return page;
  }
} finally {
  await browser.close();
  if (demo) {
    demo.kill("SIGINT");
    await new Promise((resolve) => (demo.exitCode === null ? demo.once("exit", resolve) : resolve()));
  }
}

async function waitForServer(url, ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (demo?.exitCode !== null && demo?.exitCode !== undefined)
      throw new Error(`the demo exited (${demo.exitCode}) before serving ${url}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`${url} did not answer within ${ms / 1000} s`);
}

async function waitForText(locator, text, ms) {
  const until = Date.now() + ms;
  for (;;) {
    const now = (await locator.textContent())?.trim();
    if (now === text) return;
    if (now === "failed") throw new Error(`the rollout failed while waiting for "${text}": see its page`);
    if (Date.now() > until) throw new Error(`waited ${ms / 1000} s for "${text}", the page says "${now}"`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
