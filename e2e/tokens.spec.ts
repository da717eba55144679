import type { Page } from "@playwright/test";
import { expect, login, test } from "./helpers";

/** Creates a token on the Tokens page; returns its secret (shown once) and its number. */
async function newToken(page: Page, name: string, role: string, targets = ""): Promise<{ secret: string; id: string }> {
  await page.goto("/tokens");
  const form = page.getByTestId("new-token");
  await form.getByLabel("Name").fill(name);
  await form.getByLabel("Role").selectOption(role);
  await form.getByLabel("Days").fill("7");
  await form.getByLabel("Targets (optional)").fill(targets);
  await form.getByRole("button", { name: "Create token" }).click();
  const secret = (await page.getByTestId("token-secret").innerText()).trim();
  const id = /token (\d+)/.exec(await form.locator(".ok").innerText())![1];
  return { secret, id };
}

test("a script with an API token follows a rollout, approves as the token's owner (not the requester), and is refused once the token is revoked", async ({
  browser,
  playwright,
  baseURL,
}) => {
  test.setTimeout(120_000);
  const sre = await browser.newPage();
  await login(sre, "sre");
  const dba = await browser.newPage();
  await login(dba, "dba");
  const sreToken = await newToken(sre, "sre pipeline", "sre");
  const dbaToken = await newToken(dba, "dba approvals", "dba", "chefcloud_staging");
  expect(sreToken.secret).toMatch(/^idt_[A-Za-z0-9_-]{43}$/);
  // Shown once: a reload shows the token listed, never its secret.
  await dba.reload();
  await expect(dba.locator(`tr[data-token="${dbaToken.id}"]`)).toContainText("dba approvals");
  expect(await dba.content()).not.toContain(dbaToken.secret);

  // A script: no browser, no cookie, no Origin; only the token.
  const script = await playwright.request.newContext({ baseURL });
  const as = (secret: string) => ({ Authorization: `Bearer ${secret}` });
  const created = await script.post("/api/rollouts", {
    headers: as(sreToken.secret),
    data: { changesetId: "file:001_franchise_indexes.sql", targetId: "chefcloud_staging" },
  });
  expect(created.status(), await created.text()).toBe(201);
  const { id } = (await created.json()) as { id: number };

  const read = async (secret: string) => {
    const res = await script.get(`/api/rollouts/${id}`, { headers: as(secret) });
    expect(res.status(), await res.text()).toBe(200);
    return res.json();
  };
  const waiting = await read(dbaToken.secret);
  expect(waiting).toMatchObject({
    id,
    state: "awaiting_approval",
    targetId: "chefcloud_staging",
    requestedBy: "sre",
    approvals: [],
    lastError: null,
  });
  expect(waiting.tasks.length).toBeGreaterThan(0);
  for (const t of waiting.tasks) expect(t).toMatchObject({ status: "pending", progress: { percent: 0 } });

  const approval = {
    decision: "approve",
    comment: "reviewed by the pipeline",
    changesetSha256: waiting.changeset.sha256,
    targetId: "chefcloud_staging",
  };
  // The requester's token is the requester: four eyes refuse it.
  const own = await script.post(`/api/rollouts/${id}/approve`, { headers: as(sreToken.secret), data: approval });
  expect(own.status()).toBe(422);
  expect((await own.json()).error).toContain("you requested this rollout");
  // A browser holding a session that also sends a token: whose is it? Refused.
  expect((await dba.request.get(`/api/rollouts/${id}`, { headers: as(dbaToken.secret) })).status()).toBe(400);

  const approved = await script.post(`/api/rollouts/${id}/approve`, { headers: as(dbaToken.secret), data: approval });
  expect(approved.status(), await approved.text()).toBe(200);
  const after = await read(dbaToken.secret);
  expect(after.state).toBe("approved");
  expect(after.approvals).toEqual([
    expect.objectContaining({ approver: "dba", approverRole: "dba", decision: "approve", comment: "reviewed by the pipeline" }),
  ]);

  const listed = await script.get("/api/rollouts?target=chefcloud_staging&state=approved", { headers: as(dbaToken.secret) });
  expect((await listed.json()).rollouts.map((r: { id: number }) => r.id)).toContain(id);
  const bad = await script.get("/api/rollouts?state=done", { headers: as(dbaToken.secret) });
  expect(bad.status()).toBe(400);
  expect((await bad.json()).fields[0]).toMatch(/^state: state must be one of/);

  // The audit log names the owner and the token.
  const audit = await script.get(`/api/audit/export?format=json&action=rollout.approve`, { headers: as(dbaToken.secret) });
  const rows = (await audit.json()) as Array<{ actor: string; rolloutId: number; details: { via?: string } }>;
  expect(rows.filter((r) => r.rolloutId === id)).toEqual([
    expect.objectContaining({ actor: "dba", details: expect.objectContaining({ via: `token ${dbaToken.id}` }) }),
  ]);

  // Revoked on the Tokens page: refused on every server within the cache window (seconds).
  await dba.goto("/tokens");
  await dba.getByRole("button", { name: `Revoke token ${dbaToken.id} (dba approvals)` }).click();
  await expect(dba.locator(`tr[data-token="${dbaToken.id}"]`).getByTestId("token-status")).toContainText("revoked");
  await expect
    .poll(async () => (await script.get(`/api/rollouts/${id}`, { headers: as(dbaToken.secret) })).status(), { timeout: 30_000 })
    .toBe(401);
  expect((await (await script.get(`/api/rollouts/${id}`, { headers: as(dbaToken.secret) })).json()).error).toBe(
    `token ${dbaToken.id} is revoked`,
  );

  const openapi = await script.get("/api/openapi.json");
  expect(Object.keys((await openapi.json()).paths)).toEqual(
    expect.arrayContaining(["/api/rollouts", "/api/rollouts/{id}", "/api/rollouts/{id}/approve"]),
  );
  await script.dispose();
});
