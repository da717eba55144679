import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import { createRollout, expect, login, test } from "./helpers";

// Where playwright.config.ts points the demo's webhook (--webhook), and the secret the demo keeps for it.
const WEBHOOK_PORT = Number(process.env.E2E_PORT ?? 3100) + 1000;
const secret = () => readFileSync(".indexdeck-e2e/webhook-secret", "utf8").trim();

interface Delivery {
  headers: http.IncomingHttpHeaders;
  raw: string;
  body: { event: string; deliveryId: string; rolloutId: number | null; targetId: string; at: string; url: string | null };
}

/** A real receiver on the webhook's port that checks nothing itself: the test checks the signature. */
async function receiver(): Promise<{ got: Delivery[]; close(): Promise<void> }> {
  const got: Delivery[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      got.push({ headers: req.headers, raw, body: JSON.parse(raw) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(WEBHOOK_PORT, "127.0.0.1", resolve));
  return {
    got,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function expectSigned(d: Delivery) {
  expect(d.headers["x-indexdeck-signature"]).toBe(`sha256=${createHmac("sha256", secret()).update(d.raw).digest("hex")}`);
  expect(d.headers["x-indexdeck-delivery"]).toBe(d.body.deliveryId);
}

test("a rollout awaiting approval reaches the webhook receiver, correctly signed", async ({ page }) => {
  const rx = await receiver();
  try {
    await login(page, "sre");
    const { id, url } = await createRollout(page, "001_franchise_indexes.sql", "chefcloud_staging");
    await expect.poll(() => rx.got.filter((d) => d.body.rolloutId === Number(id)).length, { timeout: 20_000 }).toBe(1);
    const d = rx.got.find((x) => x.body.rolloutId === Number(id))!;
    expectSigned(d);
    expect(d.body).toMatchObject({ event: "awaiting_approval", targetId: "chefcloud_staging", url });
    expect(Date.parse(d.body.at)).not.toBeNaN();
  } finally {
    await rx.close();
  }
});

test("a receiver that is down gets the delivery retried once it is up; the rollout changed at once; admins see every attempt", async ({
  browser,
}) => {
  const sre = await browser.newPage();
  await login(sre, "sre");
  const { id } = await createRollout(sre, "001_franchise_indexes.sql", "chefcloud_staging");
  // Nothing listens: the state changed anyway, at once.
  await expect(sre.locator(".badge", { hasText: "awaiting_approval" }).first()).toBeVisible();

  const admin = await browser.newPage();
  await login(admin, "admin");
  const rows = admin
    .getByTestId("webhook-attempts")
    .locator("tbody tr")
    .filter({ has: admin.getByRole("link", { name: `#${id}`, exact: true }) });
  await expect
    .poll(
      async () => {
        await admin.goto("/webhooks");
        return rows.filter({ hasText: "retrying" }).count();
      },
      { timeout: 20_000 },
    )
    .toBeGreaterThan(0);
  await expect(rows.first()).toContainText("ECONNREFUSED");

  const rx = await receiver();
  try {
    await expect.poll(() => rx.got.filter((d) => d.body.rolloutId === Number(id)).length, { timeout: 30_000 }).toBe(1);
    const d = rx.got.find((x) => x.body.rolloutId === Number(id))!;
    expectSigned(d);
    expect(d.body.event).toBe("awaiting_approval");
    await admin.goto("/webhooks");
    await expect(rows.filter({ hasText: "delivered" })).toHaveCount(1);
    // Every attempt was one delivery: one id throughout.
    const ids = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-delivery")));
    expect(new Set(ids)).toEqual(new Set([d.body.deliveryId]));
    // Neither the secret nor the receiver's path is on the page.
    const text = await admin.locator("main").innerText();
    expect(text).not.toContain(secret());
    expect(text).not.toContain("/hook");
    await expect(admin.getByTestId("webhooks")).toContainText(`http://127.0.0.1:${WEBHOOK_PORT}`);
  } finally {
    await rx.close();
  }
});

test("only admins see webhook deliveries", async ({ page }) => {
  await login(page, "dba");
  await page.goto("/webhooks");
  await expect(page.getByRole("heading", { name: "Not allowed" })).toBeVisible();
  await expect(page.getByTestId("webhook-attempts")).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Webhooks" })).toHaveCount(0);
});
