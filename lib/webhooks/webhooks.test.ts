import { createHmac, timingSafeEqual } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DELIVERY_KINDS, enqueueJob } from "../jobs/queue";
import { startRunner, type Runner } from "../jobs/runner";
import { collectTarget } from "../monitor/collector";
import { decideRollout } from "../rollout/approvals";
import { runPhaseJob } from "../rollout/run-phase";
import { decide, requestPhase, settle } from "../rollout/machine";
import { createRollout, getRollout } from "../rollout/rollouts";
import { DBA, DBA2, SRE, uploadChangeSet, waitForState } from "../rollout/testing";
import { withTransaction } from "../store/pool";
import { loadTargets, loadWebhooks, type TargetConfig } from "../targets/config";
import { freshDatabase, pgServers } from "../testing/db";
import { deliverJob, recentAttempts } from "./deliver";
import { until } from "../testing/until";
import { fixedTargets } from "../targets/source";

const SECRET = "whsec-test-0123456789abcdef";
const SQL = "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_org ON orders (org_id);\n";

interface Received {
  headers: http.IncomingHttpHeaders;
  raw: string;
}

/** A real HTTP receiver on 127.0.0.1 that keeps what it got; `answer` decides the reply (or none). */
async function receiver(port = 0, answer: (res: http.ServerResponse) => void = (res) => res.writeHead(204).end()) {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      got.push({ headers: req.headers, raw: Buffer.concat(chunks).toString("utf8") });
      answer(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    got,
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What a receiver does: recompute the HMAC over the raw bytes and compare in constant time. */
function signedWith(secret: string, r: Received): boolean {
  const expected = Buffer.from(`sha256=${createHmac("sha256", secret).update(r.raw).digest("hex")}`);
  const given = Buffer.from(String(r.headers["x-indexdeck-signature"] ?? ""));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

describe.each(pgServers())("webhooks on $name PostgreSQL", (server) => {
  let pool: pg.Pool;
  let targetDb: string;
  let dir: string;
  const runners: Runner[] = [];
  const savedEnv = { ...process.env };

  /** Writes a targets file with one staging target (one approval) and these webhooks, and points the process at it. */
  function configure(webhooks: object[]): TargetConfig[] {
    const file = path.join(dir, `targets-${Math.random().toString(36).slice(2)}.json`);
    const target = {
      id: "stage",
      label: "Stage",
      environment: "staging",
      url: targetDb,
      approvals: { required: 1 },
      maintenanceWindows: [{ days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], start: "00:00", end: "00:00" }],
    };
    writeFileSync(file, JSON.stringify({ targets: [target, { ...target, id: "other", label: "Other" }], webhooks }));
    process.env.INDEXDECK_TARGETS = file;
    return loadTargets();
  }

  function deliveries(opts: { timeoutMs?: number; backoffMs?: number } = {}) {
    const r = startRunner({
      pool,
      kinds: DELIVERY_KINDS,
      pollMs: 50,
      log: () => undefined,
      handle: (job) => deliverJob(pool, job, { timeoutMs: 2000, backoffMs: 100, ...opts }),
    });
    runners.push(r);
    return r;
  }

  async function jobsOf(event: string) {
    const { rows } = await pool.query<{ id: number; state: string; payload: Record<string, unknown> }>(
      "SELECT id, state, payload FROM job WHERE kind = 'webhook' AND payload->>'event' = $1 ORDER BY id",
      [event],
    );
    return rows;
  }

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: await freshDatabase(server) });
    targetDb = await freshDatabase(server, "empty");
    const c = new pg.Client({ connectionString: targetDb });
    await c.connect();
    await c.query("CREATE TABLE orders (id bigint, org_id int); INSERT INTO orders SELECT g, g % 7 FROM generate_series(1, 1000) g");
    await c.end();
    dir = mkdtempSync(path.join(os.tmpdir(), "indexdeck-webhooks-"));
    process.env.WEBHOOK_TEST_SECRET = SECRET;
    process.env.NEXTAUTH_URL = "https://indexdeck.example.test";
  });
  afterAll(async () => {
    for (const r of runners) await r.stop();
    await pool.end();
    process.env = savedEnv;
  });

  it("delivers a rollout awaiting approval to a local receiver, signed over the raw body, with the contract's fields", async () => {
    const rx = await receiver();
    const targets = configure([
      {
        id: "ops",
        url: `http://127.0.0.1:${rx.port}/hooks/indexdeck`,
        format: "json",
        events: ["awaiting_approval"],
        secretEnv: "WEBHOOK_TEST_SECRET",
      },
    ]);
    const runner = deliveries();
    const rollout = await createRollout(
      pool,
      fixedTargets(targets),
      { changesetId: await uploadChangeSet(pool, "signed.sql", `-- signed\n${SQL}`), targetId: "stage" },
      DBA,
    );
    expect(rollout.state).toBe("awaiting_approval");
    await until(async () => rx.got.length > 0, "the delivery");
    const [r] = rx.got;
    expect(signedWith(SECRET, r)).toBe(true);
    expect(signedWith("another secret", r)).toBe(false);
    const body = JSON.parse(r.raw);
    expect(body).toMatchObject({
      event: "awaiting_approval",
      rolloutId: rollout.id,
      targetId: "stage",
      url: `https://indexdeck.example.test/rollouts/${rollout.id}`,
      changeset: "signed.sql",
      approverRoles: ["dba", "sre"],
    });
    expect(body.deliveryId).toBe(r.headers["x-indexdeck-delivery"]);
    expect(body.deliveryId).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Date(body.at).toISOString()).toBe(body.at);
    expect(r.headers["content-type"]).toBe("application/json");
    const attempts = await until(async () => (await recentAttempts(pool)).find((a) => a.deliveryId === body.deliveryId), "the attempt row");
    expect(attempts).toMatchObject({ webhookId: "ops", event: "awaiting_approval", outcome: "delivered", httpStatus: 204, attempt: 1 });
    await runner.stop();
    await rx.close();
  });

  it("retries a delivery to a receiver that is down, with backoff, until it is up; every attempt is recorded under one delivery id", async () => {
    const probe = await receiver();
    const port = probe.port;
    await probe.close(); // the port is now free and nothing listens on it
    const targets = configure([
      { id: "late", url: `http://127.0.0.1:${port}/`, format: "json", events: ["awaiting_approval"], secretEnv: "WEBHOOK_TEST_SECRET" },
    ]);
    const runner = deliveries({ backoffMs: 200 });
    const rollout = await createRollout(
      pool,
      fixedTargets(targets),
      { changesetId: await uploadChangeSet(pool, "late.sql", `-- late\n${SQL}`), targetId: "stage" },
      DBA,
    );
    // The state changed at once, whatever the receiver does.
    expect((await getRollout(pool, rollout.id))!.state).toBe("awaiting_approval");
    const failedOnce = await until(async () => {
      const rows = (await recentAttempts(pool)).filter((a) => a.webhookId === "late");
      return rows.length ? rows : null;
    }, "a failed attempt");
    expect(failedOnce[0]).toMatchObject({ outcome: "retrying", httpStatus: null, error: "ECONNREFUSED" });
    const rx = await receiver(port);
    await until(async () => rx.got.length > 0, "the retried delivery");
    expect(signedWith(SECRET, rx.got[0])).toBe(true);
    const body = JSON.parse(rx.got[0].raw);
    expect(body.rolloutId).toBe(rollout.id);
    const all = await until(async () => {
      const rows = (await recentAttempts(pool)).filter((a) => a.webhookId === "late").reverse();
      return rows.at(-1)?.outcome === "delivered" ? rows : null;
    }, "the delivered attempt");
    expect(all.length).toBeGreaterThanOrEqual(2);
    expect(new Set(all.map((a) => a.deliveryId))).toEqual(new Set([body.deliveryId]));
    expect(all.map((a) => a.attempt)).toEqual(all.map((_, i) => i + 1));
    // Backoff: the second attempt waited at least the first backoff after the first.
    expect(all[1].startedAt.getTime() - all[0].startedAt.getTime()).toBeGreaterThanOrEqual(190);
    await runner.stop();
    await rx.close();
  });

  it("a receiver that never answers holds up no phase: approvals and pre-check settle while its delivery is still open", async () => {
    const hung = await receiver(0, () => undefined);
    const targets = configure([
      {
        id: "slow",
        url: `http://127.0.0.1:${hung.port}/`,
        format: "json",
        events: ["awaiting_approval", "failed"],
        secretEnv: "WEBHOOK_TEST_SECRET",
      },
    ]);
    const runner = deliveries({ timeoutMs: 60_000 });
    const phases = startRunner({
      pool,
      pollMs: 50,
      log: () => undefined,
      handle: (job) => runPhaseJob({ pool, targets: fixedTargets(targets) }, job),
    });
    runners.push(phases);
    const rollout = await createRollout(
      pool,
      fixedTargets(targets),
      { changesetId: await uploadChangeSet(pool, "slow.sql", `-- slow\n${SQL}`), targetId: "stage" },
      DBA,
    );
    await until(async () => hung.got.length === 1, "the receiver to be holding the request");
    await decideRollout(pool, fixedTargets(targets), rollout.id, SRE, {
      decision: "approve",
      comment: "ok",
      changesetSha256: rollout.changesetSha256,
      targetId: "stage",
    });
    await requestPhase(pool, rollout.id, "precheck", DBA2, {}, fixedTargets(targets));
    // Pre-check fails (no backup attested): the phase settled and its "failed" notice is queued behind the hung one.
    expect(await waitForState(pool, rollout.id, ["approved", "prechecked"])).toBe("approved");
    expect((await getRollout(pool, rollout.id))!.error).toBe("pre-check failed");
    expect((await jobsOf("failed")).filter((j) => j.payload.rolloutId === rollout.id)).toHaveLength(1);
    const first = (await jobsOf("awaiting_approval")).filter((j) => j.payload.rolloutId === rollout.id);
    expect(first.map((j) => j.state)).toEqual(["running"]);
    expect((await recentAttempts(pool)).filter((a) => a.webhookId === "slow")).toEqual([]);
    await hung.close();
    await runner.stop();
  });

  it("gives a slow receiver a timeout and does not follow a redirect", async () => {
    const elsewhere = await receiver();
    const redirecting = await receiver(0, (res) => res.writeHead(307, { location: `http://127.0.0.1:${elsewhere.port}/steal` }).end());
    const hung = await receiver(0, () => undefined);
    const targets = configure([
      {
        id: "redirect",
        url: `http://127.0.0.1:${redirecting.port}/`,
        format: "json",
        events: ["awaiting_approval"],
        secretEnv: "WEBHOOK_TEST_SECRET",
      },
      {
        id: "hung",
        url: `http://127.0.0.1:${hung.port}/`,
        format: "json",
        events: ["awaiting_approval"],
        secretEnv: "WEBHOOK_TEST_SECRET",
      },
    ]);
    const runner = deliveries({ timeoutMs: 300, backoffMs: 60_000 });
    await createRollout(
      pool,
      fixedTargets(targets),
      { changesetId: await uploadChangeSet(pool, "redirect.sql", `-- redirect\n${SQL}`), targetId: "stage" },
      DBA,
    );
    const byHook = await until(async () => {
      const rows = await recentAttempts(pool);
      const r = rows.find((a) => a.webhookId === "redirect");
      const h = rows.find((a) => a.webhookId === "hung");
      return r && h ? { r, h } : null;
    }, "both attempts");
    expect(byHook.r).toMatchObject({
      outcome: "retrying",
      httpStatus: 307,
      error: "the receiver answered with a redirect, which is not followed",
    });
    expect(elsewhere.got).toEqual([]);
    expect(byHook.h).toMatchObject({ outcome: "retrying", httpStatus: null, error: "no answer within 300 ms" });
    expect(byHook.h.durationMs).toBeLessThan(5000);
    await runner.stop();
    for (const s of [elsewhere, redirecting, hung]) await s.close();
  });

  it("announces failed, verified and signed off as the rollout enters them, only to webhooks that want the event on that target", async () => {
    const targets = configure([
      {
        id: "all",
        url: "https://hooks.example.test/a",
        format: "json",
        events: ["failed", "verified", "signed_off"],
        secretEnv: "WEBHOOK_TEST_SECRET",
      },
      {
        id: "other-only",
        url: "https://hooks.example.test/b",
        format: "json",
        events: ["verified"],
        secretEnv: "WEBHOOK_TEST_SECRET",
        targets: ["other"],
      },
    ]);
    const rollout = await createRollout(
      pool,
      fixedTargets(targets),
      { changesetId: await uploadChangeSet(pool, "states.sql", `-- states\n${SQL}`), targetId: "stage" },
      DBA,
    );
    const before = (await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM job WHERE kind = 'webhook'")).rows[0].n;
    // Jobs settled by hand, taken as running at once so that an earlier test's phase runner leaves them alone.
    const settleJob = async (phase: "verify" | "rollback", outcome: "ok" | "failed", error: string | null) => {
      const id = await withTransaction(pool, async (tx) => {
        const queued = await enqueueJob(tx, phase, rollout.id);
        await tx.query("UPDATE job SET state = 'running', locked_by = 'webhooks-test', heartbeat_at = now() WHERE id = $1", [queued]);
        return queued;
      });
      const job = { id, kind: phase, rolloutId: rollout.id, payload: {}, attempts: 1, reclaimed: false };
      await settle(pool, { job, rollout, phase, outcome, error, jobError: null, audit: {} });
    };
    await pool.query("UPDATE rollout SET state = 'verifying' WHERE id = $1", [rollout.id]);
    await settleJob("verify", "ok", null);
    // A rolled-back transaction announces nothing.
    await withTransaction(pool, async (tx) => {
      await decide(tx, rollout.id, "signoff");
      throw new Error("changed my mind");
    }).catch(() => undefined);
    await withTransaction(pool, (tx) => decide(tx, rollout.id, "signoff"));
    await settleJob("rollback", "failed", "made up for the test");
    const { rows } = await pool.query<{ payload: { webhookId: string; event: string; state: string; error: string | null } }>(
      "SELECT payload FROM job WHERE kind = 'webhook' ORDER BY id OFFSET $1",
      [before],
    );
    expect(rows.map((r) => [r.payload.webhookId, r.payload.event, r.payload.error])).toEqual([
      ["all", "verified", null],
      ["all", "signed_off", null],
      ["all", "failed", "made up for the test"],
    ]);
    expect((await pool.query("SELECT 1 FROM job WHERE kind = 'webhook'")).rowCount).toBe(before + 3);
  });

  it("announces an INVALID index the collector finds, once, and one a rollout is building only if it stays INVALID", async () => {
    configure([
      { id: "idx", url: "https://hooks.example.test/i", format: "slack", events: ["invalid_index"], secretEnv: "WEBHOOK_TEST_SECRET" },
    ]);
    const target = loadTargets().find((t) => t.id === "stage")!;
    const c = new pg.Client({ connectionString: targetDb });
    await c.connect();
    await c.query("CREATE TABLE dup (v int); INSERT INTO dup VALUES (1), (1)");
    await c.query("CREATE UNIQUE INDEX CONCURRENTLY dup_v ON dup (v)").catch(() => undefined);
    await c.end();
    await collectTarget(pool, target);
    await collectTarget(pool, target);
    const found = await jobsOf("invalid_index");
    expect(found.map((j) => [j.payload.targetId, j.payload.index, j.payload.rolloutId])).toEqual([["stage", "public.dup_v", null]]);
    // One a rollout is building is INVALID until the build ends: not announced while it applies, announced if it stays so after.
    const building = await createRollout(
      pool,
      fixedTargets(loadTargets()),
      {
        changesetId: await uploadChangeSet(pool, "dup_w.sql", "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS dup_w ON dup (v);\n"),
        targetId: "stage",
      },
      DBA,
    );
    await pool.query("UPDATE rollout SET state = 'applying' WHERE id = $1", [building.id]);
    const d = new pg.Client({ connectionString: targetDb });
    await d.connect();
    await d.query("CREATE UNIQUE INDEX CONCURRENTLY dup_w ON dup (v)").catch(() => undefined);
    await d.end();
    await collectTarget(pool, target);
    expect((await jobsOf("invalid_index")).map((j) => j.payload.index)).toEqual(["public.dup_v"]);
    await pool.query("UPDATE rollout SET state = 'failed' WHERE id = $1", [building.id]);
    await collectTarget(pool, target);
    expect((await jobsOf("invalid_index")).map((j) => j.payload.index)).toEqual(["public.dup_v", "public.dup_w"]);
  });

  it("rejects a webhook the targets file gets wrong, naming the field", () => {
    const file = path.join(dir, "bad.json");
    const t = { id: "stage", label: "S", environment: "staging", url: "postgres://x/y", approvals: { required: 0 } };
    const bad = (webhook: object) => {
      writeFileSync(file, JSON.stringify({ targets: [t], webhooks: [webhook] }));
      return () => loadWebhooks(file);
    };
    const ok = { id: "ops", url: "https://hooks.example.test/x", format: "json", events: ["failed"], secretEnv: "OPS_SECRET" };
    expect(bad({ ...ok, url: "file:///etc/passwd" })).toThrow(`${file}: webhooks.0.url: must be an http:// or https:// URL`);
    expect(bad({ ...ok, events: ["deleted"] })).toThrow(/webhooks\.0\.events\.0/);
    expect(bad({ ...ok, targets: ["nope"] })).toThrow(`${file}: webhooks.0.targets: names nope, which is not a target of this file`);
    expect(bad({ ...ok, secret: "inline" })).toThrow(/Unrecognized key/);
    expect(bad({ ...ok, secretEnv: "lower" })).toThrow("webhooks.0.secretEnv: must be the name of an environment variable");
    expect(bad(ok)()).toEqual([ok]);
  });
});
