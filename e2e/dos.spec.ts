import { readFileSync } from "node:fs";
import pg from "pg";
import { request as playwrightRequest } from "@playwright/test";
import { appendAudit } from "../lib/audit/log";
import { withTransaction } from "../lib/store/pool";
import { expect, test, createRollout, demoPassword, demoServer, login, type DemoRole } from "./helpers";

const AUDIT_ROWS = 5_000;
const REPORTS = 50;

/**
 * Fills the store's audit log with `rows` signed rows, as the app would write them (the demo's key),
 * so the chain a report would verify is a few thousand rows long.
 */
async function seedAudit(rows: number): Promise<void> {
  process.env.INDEXDECK_AUDIT_KEY = readFileSync(".indexdeck-e2e/audit-key", "utf8").trim();
  const { port, password } = demoServer();
  const pool = new pg.Pool({ connectionString: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/indexdeck`, max: 4 });
  try {
    for (let done = 0; done < rows; done += 500) {
      await withTransaction(pool, async (tx) => {
        for (let i = done; i < Math.min(rows, done + 500); i++) {
          await appendAudit(tx, {
            actor: "dba",
            role: "dba",
            action: "rollout.approve",
            targetId: "chefcloud_staging",
            details: { i, comment: "a comment of the length people write when they approve a rollout of a few indexes" },
          });
        }
      });
    }
  } finally {
    await pool.end();
  }
}

/** One sign-in over HTTP, as the login form does it: next-auth's CSRF token, then the credentials. */
async function timedLogin(baseURL: string, role: DemoRole): Promise<{ ms: number; signedIn: boolean }> {
  const client = await playwrightRequest.newContext({ baseURL });
  try {
    const started = performance.now();
    const { csrfToken } = await (await client.get("/api/auth/csrf")).json();
    const response = await client.post("/api/auth/callback/credentials", {
      form: { csrfToken, username: role, password: demoPassword(role), callbackUrl: `${baseURL}/`, json: "true" },
      maxRedirects: 0,
    });
    const ms = performance.now() - started;
    const signedIn = (await client.storageState()).cookies.some((c) => c.name.endsWith("next-auth.session-token"));
    expect(response.status(), await response.text()).toBeLessThan(400);
    return { ms, signedIn };
  } finally {
    await client.dispose();
  }
}

/** `paths` fetched all at once with `cookie`, while three people sign in one after the other. */
async function burstWhileSigningIn(baseURL: string, cookie: string, paths: string[]) {
  const started = performance.now();
  const finishedAt: number[] = [];
  const burst = paths.map(async (path) => {
    const response = await fetch(`${baseURL}${path}`, { headers: { cookie } });
    const text = await response.text();
    finishedAt.push(performance.now());
    return { status: response.status, text };
  });
  const logins: Array<{ ms: number; signedIn: boolean; at: number }> = [];
  for (const role of ["engineer", "dba", "admin"] as const) {
    const r = await timedLogin(baseURL, role);
    logins.push({ ...r, at: performance.now() });
  }
  const reports = await Promise.all(burst);
  const tookMs = Math.max(...finishedAt) - started;
  const running = finishedAt.filter((t) => t > logins[0].at).length;
  return { reports, logins, tookMs, running };
}

// Issue 16, point 10: a report used to recompute the whole audit chain per request, so 50 concurrent
// report downloads kept both cores busy and sign-ins waited behind them.
test(`${REPORTS} concurrent report requests over ${AUDIT_ROWS} audit rows leave sign-ins answering within 1 s`, async ({
  browser,
  baseURL,
}) => {
  test.setTimeout(180_000);
  await seedAudit(AUDIT_ROWS);
  const sre = await browser.newPage();
  await login(sre, "sre");
  const { id } = await createRollout(sre, "001_franchise_indexes.sql", "chefcloud_staging");
  // Nine more rollouts, for a burst of different reports (each built on its own).
  const ids = [Number(id)];
  for (let i = 0; i < 9; i++) {
    const created = await sre.request.post("/api/rollouts", {
      headers: { origin: baseURL! },
      data: { changesetId: "file:001_franchise_indexes.sql", targetId: "chefcloud_staging" },
    });
    expect(created.status()).toBe(201);
    ids.push((await created.json()).id);
  }
  const manager = await browser.newPage();
  await login(manager, "manager");
  const cookie = (await manager.context().cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
  // A few alone (each app server gets some), so that what is measured below is the load and not the
  // servers' first requests.
  for (let i = 0; i < 4; i++) expect((await fetch(`${baseURL}/api/rollouts/${ids[i]}/report`, { headers: { cookie } })).status).toBe(200);
  const idle = await timedLogin(baseURL!, "engineer");

  const rounds = {
    [`one report ${REPORTS} times`]: Array.from({ length: REPORTS }, () => `/api/rollouts/${id}/report`),
    [`${ids.length} reports ${REPORTS / ids.length} times each`]: Array.from(
      { length: REPORTS },
      (_, i) => `/api/rollouts/${ids[i % ids.length]}/report`,
    ),
  };
  // A shared machine can stall any one sign-in for a moment; a burst that starves sign-ins does it every
  // time. So each round gets up to three tries, apart by more than the 2 s a finished report is handed
  // out for (each try builds its reports anew), and one try whose three sign-ins all answer within 1 s
  // passes it. Before the fix every try of either round held the first sign-in about 2 s.
  for (const [name, paths] of Object.entries(rounds)) {
    const tries: number[][] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, 2_500));
      const { reports, logins, tookMs, running } = await burstWhileSigningIn(baseURL!, cookie, paths);
      console.log(
        `${name}, try ${attempt}: sign-in alone ${idle.ms.toFixed(0)} ms; during the burst ${logins.map((l) => `${l.ms.toFixed(0)} ms`).join(", ")}; ` +
          `the reports took ${tookMs.toFixed(0)} ms, ${running} still running when the first sign-in answered`,
      );
      for (const r of reports) {
        expect(r.status).toBe(200);
        expect(r.text).toMatch(/Chain verdict at export: \*\*intact \(\d+ rows\)\*\*/);
      }
      for (const l of logins) expect(l.signedIn).toBe(true);
      tries.push(logins.map((l) => l.ms));
      if (logins.every((l) => l.ms < 1_000)) break;
    }
    const best = Math.min(...tries.map((ms) => Math.max(...ms)));
    expect(best, `${name}: slowest sign-in of each try ${JSON.stringify(tries.map((ms) => Math.round(Math.max(...ms))))}`).toBeLessThan(
      1_000,
    );
  }
  await sre.close();
  await manager.close();
});
