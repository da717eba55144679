import { readFileSync, writeFileSync } from "node:fs";
import { expect, test, createRollout, demoServer, login, storeRows, ROLES } from "./helpers";

const TARGETS_FILE = ".indexdeck-e2e/targets.json";

/** The session cookie of a signed-in page, for requests made outside the browser. */
async function cookieHeader(page: import("@playwright/test").Page): Promise<string> {
  return (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
}

test("a cross-site text/plain POST with a valid session is refused and records nothing; a JSON one from the app is not", async ({
  browser,
  baseURL,
}) => {
  const sre = await browser.newPage();
  await login(sre, "sre");
  const { id } = await createRollout(sre, "001_franchise_indexes.sql", "chefcloud_staging");
  const sha = (
    await sre
      .locator("code")
      .filter({ hasText: /^[0-9a-f]{64}$/ })
      .first()
      .innerText()
  ).trim();
  const dba = await browser.newPage();
  await login(dba, "dba");
  const approval = JSON.stringify({ decision: "approve", comment: "forged", changesetSha256: sha, targetId: "chefcloud_staging" });
  const path = `/api/rollouts/${id}/approve`;

  // What a forged form on another site sends: text/plain (no preflight), the victim's cookie, its own Origin.
  const forged = await dba.request.post(path, { headers: { "content-type": "text/plain", origin: "http://evil.example" }, data: approval });
  expect(forged.status()).toBe(403);
  expect((await forged.json()).error).toBe(`cross-site request refused: Origin http://evil.example is not ${baseURL}`);
  // JSON from another origin, and a browser that only says cross-site, are refused the same way.
  expect(
    (
      await dba.request.post(path, { headers: { "content-type": "application/json", origin: "http://evil.example" }, data: approval })
    ).status(),
  ).toBe(403);
  expect(
    (
      await dba.request.post(path, { headers: { "content-type": "application/json", "sec-fetch-site": "cross-site" }, data: approval })
    ).status(),
  ).toBe(403);
  // Same origin, but not JSON: 415.
  const plain = await dba.request.post(path, { headers: { "content-type": "text/plain", origin: baseURL! }, data: approval });
  expect(plain.status()).toBe(415);
  expect((await plain.json()).error).toBe("the body must be application/json, not text/plain");

  expect(await storeRows("SELECT id FROM approval WHERE rollout_id = $1", [id])).toEqual([]);
  expect(await storeRows("SELECT id FROM audit_log WHERE rollout_id = $1 AND action LIKE '%approv%'", [id])).toEqual([]);

  // The app's own request, as its pages send it, still works with the same cookie.
  const own = await dba.request.post(path, { headers: { "content-type": "application/json", origin: baseURL! }, data: approval });
  expect(own.status()).toBe(200);
  expect(await storeRows("SELECT approver FROM approval WHERE rollout_id = $1", [id])).toEqual([{ approver: "dba" }]);
  await sre.close();
  await dba.close();
});

test("every page and API response carries the security headers, pages a fresh script nonce; no HSTS over http", async ({
  page,
  request,
}) => {
  const pageResponse = await page.goto("/login");
  const first = pageResponse!.headers();
  const nonceOf = (csp: string) => /'nonce-([^']+)'/.exec(csp)?.[1];
  expect(first["content-security-policy"]).toContain("frame-ancestors 'none'");
  expect(nonceOf(first["content-security-policy"])).toBeTruthy();
  const second = (await request.get("/login")).headers();
  expect(nonceOf(second["content-security-policy"])).not.toBe(nonceOf(first["content-security-policy"]));
  // Next.js's scripts carry the nonce of their response.
  const html = await (await request.get("/login")).text();
  const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
  expect(scripts.length).toBeGreaterThan(0);
  expect(scripts.filter((s) => !s.includes("nonce="))).toEqual([]);

  const responses = [
    first,
    second,
    (await request.get("/rollouts", { maxRedirects: 0 })).headers(),
    (await request.get("/api/usage?target=x&index=y&range=24h")).headers(),
    (await request.post("/api/rollouts", { data: {} })).headers(),
    (await request.get("/api/metrics")).headers(),
  ];
  for (const h of responses) {
    expect(h["content-security-policy"]).toMatch(/frame-ancestors 'none'/);
    expect(h["x-content-type-options"]).toBe("nosniff");
    expect(h["referrer-policy"]).toBe("same-origin");
    expect(h["x-frame-options"]).toBe("DENY");
    expect(h["strict-transport-security"]).toBeUndefined();
  }
  expect(responses[3]["content-security-policy"]).toBe("default-src 'none'; frame-ancestors 'none'");
});

test("the CSP guard of the e2e suite fails a test whose page breaks the policy", async ({ page }) => {
  test.fail(); // the guard in helpers.ts must turn this violation into a failure
  await page.goto("/login");
  await page.evaluate(() => {
    const img = document.createElement("img");
    img.src = "http://evil.example/pixel.png";
    document.body.append(img);
  });
  await page.waitForTimeout(500);
});

test("request bodies over a route's limit get 413 without being read; the change set route takes up to its 1 MiB of SQL", async ({
  page,
  baseURL,
}) => {
  await login(page, "dba");
  const big = await page.request.post("/api/rollouts", { data: { changesetId: "x".repeat(70 * 1024), targetId: "chefcloud_staging" } });
  expect(big.status()).toBe(413);
  expect((await big.json()).error).toBe("request body over the 64 KiB limit of this route");
  const sql = `-- ${"x".repeat(1024 * 1024 - 100)}\nSELECT 1;\n`;
  const fits = await test.step("1 MiB of SQL", () =>
    page.request.post("/api/changesets", { data: { name: `e2e_big_${Date.now()}.sql`, sql } }));
  expect(fits.status()).toBe(201);
  const huge = await test.step("3 MiB", () => page.request.post("/api/changesets", { data: { name: "e2e_huge.sql", sql: sql.repeat(3) } }));
  expect(huge.status()).toBe(413);

  // A body without a length (chunked, 4 MiB in 16 KiB pieces): refused once the limit is crossed.
  const chunk = new TextEncoder().encode(" ".repeat(16 * 1024));
  let pieces = 256;
  const chunked = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        if (pieces-- > 0) c.enqueue(chunk);
        else c.close();
      },
    },
    { highWaterMark: 0 },
  );
  const cookie = await cookieHeader(page);
  const res = await test.step("chunked", () =>
    fetch(`${baseURL}/api/rollouts`, {
      method: "POST",
      body: chunked,
      duplex: "half",
      headers: { "content-type": "application/json", cookie, origin: baseURL! },
      signal: AbortSignal.timeout(20_000),
    } as RequestInit));
  expect(res.status).toBe(413);
});

test("a user gets at most 10 live rollout streams per app server; the next one is 429", async ({ page, baseURL }) => {
  await login(page, "engineer");
  const {
    rows: [{ id }],
  } = { rows: await storeRows<{ id: number }>("SELECT id FROM rollout ORDER BY id LIMIT 1", []) };
  const cookie = await cookieHeader(page);
  const aborts: AbortController[] = [];
  const statuses: number[] = [];
  try {
    // Requests land on any of the app's workers (one per core): open enough for every one to reach its limit.
    for (let i = 0; i < 10 * 4 + 1 && !statuses.includes(429); i++) {
      const abort = new AbortController();
      aborts.push(abort);
      const res = await fetch(`${baseURL}/api/rollouts/${id}/events`, { headers: { cookie }, signal: abort.signal });
      statuses.push(res.status);
      if (res.status === 429) expect((await res.json()).error).toMatch(/^at most 10 live streams per user/);
    }
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(10);
  } finally {
    for (const a of aborts) a.abort();
  }
});

test.describe("secrets in connection URLs", () => {
  const SECRETS = { userinfo: "E2eUserinfoSecret5521", sslpassword: "E2eSslPassphrase7431", passfile: "E2ePassfileSecret9917" };
  let original = "";
  let rolloutId = 0;

  test.beforeAll(() => {
    original = readFileSync(TARGETS_FILE, "utf8");
    const { port, password } = demoServer();
    const file = JSON.parse(original);
    const staging = file.targets.find((t: { id: string }) => t.id === "chefcloud_staging");
    const like = (id: string, url: string) => ({ ...staging, id, label: `Leak test ${id}`, url });
    file.targets.push(
      // Reachable, with the demo server's real password as a query parameter.
      like("leak_query", `postgres://postgres@127.0.0.1:${port}/chefcloud_staging?password=${encodeURIComponent(password)}`),
      like("leak_userinfo", `postgres://e2e_nobody:${SECRETS.userinfo}@127.0.0.1:${port}/postgres`),
      like(
        "leak_sslpassword",
        `postgres://postgres@127.0.0.1:${port}/chefcloud_staging?password=${encodeURIComponent(password)}&sslmode=require&sslpassword=${SECRETS.sslpassword}`,
      ),
      like("leak_passfile", `postgres://e2e_nobody@127.0.0.1:1/postgres?passfile=%2Ftmp%2F${SECRETS.passfile}`),
    );
    // The app reads the targets file as it is now (by size and time), so no restart is needed.
    writeFileSync(TARGETS_FILE, JSON.stringify(file, null, 2));
  });

  test.afterAll(() => {
    writeFileSync(TARGETS_FILE, original);
  });

  test("no password, in any form, on any page or GET API response, for any role — failing connects included", async ({
    browser,
    baseURL,
  }) => {
    test.setTimeout(240_000);
    const webhookSecret = readFileSync(".indexdeck-e2e/webhook-secret", "utf8").trim();
    const forbidden = [demoServer().password, encodeURIComponent(demoServer().password), ...Object.values(SECRETS), webhookSecret];
    // A rollout on the unreachable target whose pre-check fails to connect: its error reaches events, the page and the audit log.
    const sre = await browser.newPage();
    await login(sre, "sre");
    ({ id: rolloutId } = await createRollout(sre, "001_franchise_indexes.sql", "leak_userinfo").then((r) => ({ id: Number(r.id) })));
    const sha = (
      await sre
        .locator("code")
        .filter({ hasText: /^[0-9a-f]{64}$/ })
        .first()
        .innerText()
    ).trim();
    const dba = await browser.newPage();
    await login(dba, "dba");
    expect(
      (
        await dba.request.post(`/api/rollouts/${rolloutId}/approve`, {
          data: { decision: "approve", comment: "ok", changesetSha256: sha, targetId: "leak_userinfo" },
        })
      ).status(),
    ).toBe(200);
    expect((await dba.request.post(`/api/rollouts/${rolloutId}/precheck`, { data: { backupId: "b-1" } })).status()).toBe(202);
    await expect(async () => {
      const rows = await storeRows<{ error: string | null }>("SELECT error FROM rollout WHERE id = $1", [rolloutId]);
      expect(rows[0].error).toMatch(/precheck failed/);
    }).toPass({ timeout: 30_000 });
    await sre.close();
    await dba.close();

    const targets = ["chefcloud_staging", "leak_query", "leak_userinfo", "leak_sslpassword", "leak_passfile"];
    const pages = [
      "/",
      "/audit",
      "/changesets",
      "/help",
      "/rollouts",
      `/rollouts/${rolloutId}`,
      `/report/${rolloutId}`,
      "/signoffs",
      "/targets",
      "/users",
      "/webhooks",
      ...targets.flatMap((t) => [
        `/targets/${t}`,
        `/indexes?target=${t}`,
        `/indexes?target=${t}&tab=reports`,
        `/indexes/${t}/public.franchise_overview_pkey`,
      ]),
    ];
    const apis = [
      "/api/audit/export?format=json",
      "/api/audit/export?format=csv",
      `/api/rollouts/${rolloutId}/report`,
      ...targets.flatMap((t) => [`/api/targets/${t}/policy`, `/api/usage?target=${t}&index=public.franchise_overview_pkey&range=24h`]),
    ];
    const leaks: string[] = [];
    const check = (where: string, text: string) => {
      for (const secret of forbidden) if (text.includes(secret)) leaks.push(`${where} shows ${secret}`);
    };
    for (const role of ROLES) {
      const page = await browser.newPage();
      await login(page, role);
      for (const path of pages) {
        const res = await page.goto(path);
        expect(res!.status(), `${role} ${path}`).toBeLessThan(500);
        check(`${role} ${path}`, await page.content());
      }
      for (const path of apis) check(`${role} GET ${path}`, await (await page.request.get(path)).text());
      // The live stream: its whole history arrives first.
      const abort = new AbortController();
      const res = await fetch(`${baseURL}/api/rollouts/${rolloutId}/events`, {
        headers: { cookie: await cookieHeader(page) },
        signal: abort.signal,
      });
      const reader = res.body!.getReader();
      let events = "";
      const until = Date.now() + 1500;
      while (Date.now() < until && !events.includes("precheck"))
        events += new TextDecoder().decode((await reader.read()).value ?? new Uint8Array());
      abort.abort();
      expect(events).toContain("phase_error");
      check(`${role} SSE`, events);
      await page.close();
    }
    check(
      "GET /api/metrics",
      await (await fetch(`${baseURL}/api/metrics`, { headers: { authorization: "Bearer e2e-metrics-token" } })).text(),
    );
    expect(leaks).toEqual([]);
  });
});
