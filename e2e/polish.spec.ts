import { expect, test, signedIn, storeRows } from "./helpers";

// Half an hour off UTC: a page that shows UTC, or the server's zone, can't match by accident.
const ZONE = "Asia/Kolkata";

/** The newest rollout of the seed change set (specs that run earlier make some; others carry one-line change sets). */
async function newestRollout(): Promise<number> {
  const [{ id }] = await storeRows<{ id: number | null }>(
    "SELECT max(id) AS id FROM rollout WHERE changeset_name = '001_franchise_indexes.sql'",
  );
  expect(id, "a rollout made by an earlier spec").not.toBeNull();
  return Number(id);
}

/** An index the usage collector has seen on staging (its primary keys are always there). */
async function anIndex(): Promise<string> {
  const [row] = await storeRows<{ key: string }>(
    "SELECT index_key AS key FROM usage_last WHERE target_id = 'chefcloud_staging' ORDER BY index_key LIMIT 1",
  );
  expect(row, "an index the collector has seen").toBeDefined();
  return row!.key;
}

/** `2026-11-30 18:04` in ZONE, as Node (not the page) computes it. */
function inZone(d: Date): string {
  const f = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", {
      timeZone: ZONE,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    })
      .formatToParts(d)
      .map((p) => [p.type, p.value]),
  );
  return `${f.year}-${f.month}-${f.day} ${f.hour}:${f.minute}`;
}

test("times show in the viewer's time zone with UTC on hover, on every page that shows one; the usage chart's axis too", async ({
  browser,
}) => {
  test.setTimeout(300_000);
  const id = await newestRollout();
  const page = await signedIn(browser, "admin", { timezoneId: ZONE, locale: "en-US" });
  const pages = [
    "/",
    "/targets",
    "/targets/chefcloud_prod",
    "/rollouts",
    `/rollouts/${id}`,
    `/report/${id}`,
    "/signoffs",
    "/audit",
    "/webhooks",
    "/users",
    "/tokens",
  ];
  let seen = 0;
  for (const path of pages) {
    await page.goto(path);
    await page.waitForLoadState("load");
    // A full timestamp written as text, outside a <time> (and outside SQL/JSON shown as is), is one the viewer's zone never reached.
    const bare = await page.locator("body").evaluate((root) => {
      const found: string[] = [];
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode())
        if (!n.parentElement?.closest("time, pre, code, script, style") && /\d{4}-\d\d-\d\d[ T]\d\d:\d\d/.test(n.textContent ?? ""))
          found.push(n.textContent!.trim());
      return found;
    });
    expect(bare, `timestamps not in the viewer's zone on ${path}`).toEqual([]);
    for (const time of await page.locator("time").all()) {
      const at = new Date((await time.getAttribute("datetime"))!);
      expect(await time.getAttribute("title"), `${path}: UTC on hover`).toBe(`${at.toISOString().replace("T", " ").slice(0, 19)} UTC`);
      // The server renders UTC; once hydrated, the browser shows the viewer's zone. Times of day (the
      // event log) and days alone are checked through their part of the full moment.
      const full = inZone(at);
      const text = await time.innerText();
      if (/^\d\d:\d\d:\d\d/.test(text)) await expect(time, path).toHaveText(new RegExp(`^${full.slice(11)}:\\d\\d$`));
      else if (/^\d{4}-\d\d-\d\d$/.test(text)) await expect(time, path).toHaveText(full.slice(0, 10));
      else await expect(time, path).toHaveText(new RegExp(`^${full}(:\\d\\d)? GMT\\+5:30$`));
      seen++;
    }
  }
  expect(seen, "times checked").toBeGreaterThan(10);

  // The usage chart's axis: each tick is a bucket's start in the viewer's zone.
  const index = await anIndex();
  const usage = await (await page.request.get(`/api/usage?target=chefcloud_staging&index=${encodeURIComponent(index)}&range=24h`)).json();
  expect(usage.series.t.length).toBeGreaterThan(0);
  await page.goto(`/indexes/chefcloud_staging/${encodeURIComponent(index)}`);
  // The time axis's ticks (the value axis's are plain numbers).
  const ticks = page.getByTestId("usage-chart").locator(".recharts-cartesian-axis-tick-value", { hasText: /^\d\d-\d\d \d\d:\d\d$/ });
  await expect(ticks.first()).toBeVisible();
  const local = new Set((usage.series.t as number[]).map((t) => inZone(new Date(t * 1000)).slice(5)));
  for (const tick of await ticks.allTextContents()) expect(local, `tick ${tick}`).toContain(tick);
  // And its text alternative: the same points in a table.
  await expect(page.getByTestId("usage-table").locator("tbody tr")).toHaveCount(usage.series.t.length);
});

/** Relative luminance of a computed `rgb(…)` colour, 0 (black) to 1 (white). */
function luminance(rgb: string): number {
  const [r, g, b] = rgb
    .match(/\d+(\.\d+)?/g)!
    .slice(0, 3)
    .map((c) => {
      const v = Number(c) / 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

test("the theme follows the OS setting: dark when the browser prefers dark, light otherwise", async ({ browser }) => {
  const id = await newestRollout();
  for (const scheme of ["dark", "light"] as const) {
    const page = await signedIn(browser, "dba", { colorScheme: scheme });
    for (const path of ["/", `/rollouts/${id}`]) {
      await page.goto(path);
      const colours = await page.evaluate(() => {
        const card = document.querySelector(".card") ?? document.body;
        return {
          page: getComputedStyle(document.body).backgroundColor,
          text: getComputedStyle(document.body).color,
          card: getComputedStyle(card).backgroundColor,
        };
      });
      const [bg, fg, card] = [luminance(colours.page), luminance(colours.text), luminance(colours.card)];
      if (scheme === "dark") {
        expect(bg, `${path} background`).toBeLessThan(0.05);
        expect(card, `${path} cards`).toBeLessThan(0.05);
        expect(fg, `${path} text`).toBeGreaterThan(0.6);
      } else {
        expect(bg, `${path} background`).toBeGreaterThan(0.8);
        expect(fg, `${path} text`).toBeLessThan(0.05);
      }
    }
    await page.context().close();
  }
});

test("SQL shows with line numbers and folds: the change sets page and the SQL a rollout's approval binds", async ({ browser }) => {
  const id = await newestRollout();
  const page = await signedIn(browser, "dba", {});
  await page.goto(`/rollouts/${id}`);
  const bound = page.getByTestId("approved-text");
  // Open while the rollout awaits approval, folded after.
  if ((await bound.getAttribute("open")) === null) await bound.locator("summary").click();
  const lines = bound.locator("pre.sql .line");
  expect(await lines.count()).toBeGreaterThan(5);
  await expect(lines.first().locator(".ln")).toHaveText("1");
  await expect(lines.last().locator(".ln")).toHaveText(String(await lines.count()));
  await bound.locator("summary").click();
  await expect(lines.first()).toBeHidden();

  await page.goto("/changesets");
  const block = page.locator("details.sql-block").first();
  await expect(block.locator("summary")).toHaveText(/^SQL, \d+ lines?$/);
  await expect(block.locator(".ln").first()).toHaveText("1");
});
