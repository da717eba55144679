import pg from "pg";
import { beforeEach, describe, expect, it } from "vitest";
import { verifyAudit } from "../audit/verify";
import { decideRollout } from "../rollout/approvals";
import { createRollout } from "../rollout/rollouts";
import { requestPhase } from "../rollout/machine";
import { uploadChangeSet } from "../rollout/testing";
import { freshDatabase, pgServers } from "../testing/db";
import { parseTargetsFile } from "../targets/config";
import { changeUser } from "./manage";
import type { Actor } from "./policy";
import { SessionUsers } from "./sessions";
import { ApiTokens, bearerSecret, createServiceUser, createToken, listTokens, revokeToken, tokenActor, TokenError } from "./tokens";
import { authenticate, createUser } from "./users";
import { fixedTargets } from "../targets/source";

const SQL = "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS a_idx ON t (x);\n";
const TTL = 10_000;

describe.each(pgServers())("API tokens on $name PostgreSQL", (server) => {
  let pool: pg.Pool;
  let admin: Actor;
  let dba: Actor;
  let sre: Actor;
  let clock: number;
  // One cache per app server, each with the clock this test moves.
  const serverCache = () => new ApiTokens(pool, new SessionUsers(pool, { ttlMs: TTL, now: () => clock }), { ttlMs: TTL });
  const targets = parseTargetsFile(
    JSON.stringify({
      targets: [
        {
          id: "stage",
          label: "S",
          environment: "staging",
          url: "postgres://x@127.0.0.1:1/x",
          approvals: { required: 1, roles: ["dba", "sre", "admin"] },
        },
        {
          id: "prod",
          label: "P",
          environment: "production",
          url: "postgres://x@127.0.0.1:1/x",
          approvals: { required: 2, roles: ["dba", "sre", "admin"] },
        },
      ],
    }),
    "t.json",
  );

  beforeEach(async () => {
    pool = new pg.Pool({ connectionString: await freshDatabase(server) });
    admin = await createUser(pool, { email: "root", role: "admin", password: "admin password long" }, null);
    dba = await createUser(pool, { email: "dba", role: "dba", password: "correct horse battery" }, null);
    sre = await createUser(pool, { email: "sre", role: "sre", password: "correct horse battery" }, null);
    clock = Date.now();
    return () => pool.end();
  });

  it("shows the secret once and stores only its SHA-256; lists tokens without secrets; audits the creation", async () => {
    const { token, secret } = await createToken(pool, "dba", { name: "ci deploy", role: "sre", days: 30 }, dba);
    expect(secret).toMatch(/^idt_[A-Za-z0-9_-]{43}$/);
    expect(token).toMatchObject({ owner: "dba", name: "ci deploy", role: "sre", targets: null, createdBy: "dba", revokedAt: null });
    expect(token.expiresAt.getTime() - token.createdAt.getTime()).toBe(30 * 24 * 3600 * 1000);
    const {
      rows: [raw],
    } = await pool.query("SELECT to_jsonb(api_token) AS row, encode(secret_sha256, 'hex') AS digest FROM api_token");
    expect(JSON.stringify(raw.row)).not.toContain(secret.slice(4));
    expect(raw.digest).toBe((await import("node:crypto")).createHash("sha256").update(secret).digest("hex"));
    expect(JSON.stringify(await listTokens(pool, { owner: "dba" }))).not.toContain(secret.slice(4));
    const { rows: audit } = await pool.query("SELECT actor, role, details FROM audit_log WHERE action = 'token.create'");
    expect(audit).toEqual([
      { actor: "dba", role: "dba", details: { token: token.id, owner: "dba", name: "ci deploy", role: "sre", targets: null, days: 30 } },
    ]);
    expect(JSON.stringify(audit)).not.toContain(secret.slice(4));
    expect(await tokenActor(serverCache(), secret)).toEqual({
      id: dba.id,
      email: "dba",
      role: "sre",
      via: { tokenId: token.id, targets: null },
    });
    expect(await tokenActor(serverCache(), secret.slice(0, -1) + (secret.endsWith("A") ? "B" : "A"))).toBeNull();
  });

  it("requires a name and an expiry of 1 to 365 days, and a role no higher than the owner's or the creator's", async () => {
    await expect(createToken(pool, "dba", { name: "x", role: "dba", days: 366 }, dba)).rejects.toThrow(/days must be at most 365/);
    await expect(createToken(pool, "dba", { name: "x", role: "dba", days: 0 }, dba)).rejects.toThrow(/days must be at least 1/);
    await expect(createToken(pool, "dba", { name: "x", role: "dba" } as never, dba)).rejects.toThrow(/days/);
    await expect(createToken(pool, "dba", { name: " ", role: "dba", days: 1 }, dba)).rejects.toThrow(/name is required/);
    await expect(createToken(pool, "dba", { name: "x", role: "admin", days: 1 }, dba)).rejects.toThrow(
      /role admin is higher than dba's role dba/,
    );
    await expect(
      createToken(pool, "dba", { name: "x", role: "dba", days: 1, targets: ["stage", "nope"] }, dba, ["stage", "prod"]),
    ).rejects.toThrow("targets: nope is not a configured target");
    await expect(createToken(pool, "sre", { name: "x", role: "sre", days: 1 }, dba)).rejects.toThrow(
      /dba may create tokens only for themselves, not for sre/,
    );
    await expect(createToken(pool, "sre", { name: "x", role: "sre", days: 1 }, admin)).rejects.toThrow(
      /root may create tokens only for themselves and service users, not for sre/,
    );
    expect((await pool.query("SELECT count(*)::int AS n FROM api_token")).rows[0].n).toBe(0);
    expect((await pool.query("SELECT count(*)::int AS n FROM audit_log WHERE action = 'token.create'")).rows[0].n).toBe(0);
  });

  it("expires: a token past its expiry is refused", async () => {
    const { secret } = await createToken(pool, "dba", { name: "short", role: "dba", days: 1 }, dba);
    expect(await tokenActor(serverCache(), secret)).toMatchObject({ email: "dba" });
    clock += 24 * 3600 * 1000 + 1000;
    expect(await tokenActor(serverCache(), secret)).toBeNull();
  });

  it("is refused on every server within the cache window once revoked, at once on the server that revoked it", async () => {
    const { token, secret } = await createToken(pool, "dba", { name: "t", role: "dba", days: 7 }, dba);
    const here = serverCache();
    const there = serverCache();
    expect(await tokenActor(here, secret)).not.toBeNull();
    expect(await tokenActor(there, secret)).not.toBeNull();
    await expect(revokeToken(pool, token.id, sre, here)).rejects.toThrow(/belongs to dba: only they or an admin may revoke it/);
    await revokeToken(pool, token.id, dba, here);
    await new Promise((r) => setTimeout(r, 10));
    expect(await tokenActor(here, secret)).toBeNull();
    clock += TTL - 1000;
    expect(await tokenActor(there, secret)).not.toBeNull(); // the other server still trusts what it read
    clock += 1000;
    expect(await tokenActor(there, secret)).toBeNull();
    await expect(revokeToken(pool, token.id, admin, here)).rejects.toThrow(/token \d+ is already revoked/);
    expect((await listTokens(pool, { id: token.id }))[0].revokedAt).toBeInstanceOf(Date);
    const { rows } = await pool.query("SELECT actor, details FROM audit_log WHERE action = 'token.revoke'");
    expect(rows).toEqual([{ actor: "dba", details: { token: token.id, owner: "dba", name: "t" } }]);
  });

  it("acts with the lesser of its role and the owner's current role, and not at all for a disabled owner", async () => {
    const { secret } = await createToken(pool, "dba", { name: "t", role: "dba", days: 7 }, dba);
    const cache = serverCache();
    expect((await tokenActor(cache, secret))!.role).toBe("dba");
    await changeUser(pool, "dba", { op: "set-role", role: "engineer" }, admin);
    clock += TTL;
    expect((await tokenActor(cache, secret))!.role).toBe("engineer");
    await changeUser(pool, "dba", { op: "disable" }, admin);
    clock += TTL;
    expect(await tokenActor(cache, secret)).toBeNull();
  });

  it("service users: made by an admin, no password sign-in, tokens made for them by an admin", async () => {
    await expect(createServiceUser(pool, { email: "ci-bot", role: "sre" }, dba)).rejects.toThrow(/role dba may not create service users/);
    const bot = await createServiceUser(pool, { email: "ci-bot", role: "sre" }, admin);
    expect(await authenticate(pool, "ci-bot", "!", "192.0.2.9")).toEqual({ ok: false, reason: "invalid" });
    await expect(createToken(pool, "ci-bot", { name: "ci", role: "sre", days: 90 }, dba)).rejects.toThrow(
      /dba may create tokens only for themselves, not for ci-bot/,
    );
    await expect(createToken(pool, "ci-bot", { name: "ci", role: "dba", days: 90 }, admin)).rejects.toThrow(
      /role dba is higher than ci-bot's role sre/,
    );
    const { secret } = await createToken(pool, "ci-bot", { name: "ci", role: "sre", days: 90 }, admin);
    expect(await tokenActor(serverCache(), secret)).toMatchObject({ id: bot.id, email: "ci-bot", role: "sre" });
  });

  it("a scoped token acts only on its targets; it approves only as its owner, never the owner's own rollout; every use names the token", async () => {
    const scoped = await createToken(pool, "dba", { name: "staging only", role: "dba", days: 7, targets: ["stage"] }, dba);
    const asScoped = (await tokenActor(serverCache(), scoped.secret))!;
    const cs = await uploadChangeSet(pool, "a.sql", SQL);
    await expect(createRollout(pool, fixedTargets(targets), { changesetId: cs, targetId: "prod" }, asScoped)).rejects.toThrow(
      `token ${scoped.token.id} may act only on target stage, not prod`,
    );
    const onProd = await createRollout(pool, fixedTargets(targets), { changesetId: cs, targetId: "prod" }, dba);
    const approve = { decision: "approve" as const, comment: "reviewed", changesetSha256: onProd.changesetSha256, targetId: "prod" };
    await expect(decideRollout(pool, fixedTargets(targets), onProd.id, asScoped, approve)).rejects.toThrow(
      /may act only on target stage, not prod/,
    );
    await expect(requestPhase(pool, onProd.id, "cancel", asScoped, { reason: "no" }, fixedTargets(targets))).rejects.toThrow(
      /may act only on target stage, not prod/,
    );

    // The requester's token is the requester: four eyes refuse it.
    const wide = await createToken(pool, "dba", { name: "wide", role: "dba", days: 7 }, dba);
    const asDba = (await tokenActor(serverCache(), wide.secret))!;
    await expect(decideRollout(pool, fixedTargets(targets), onProd.id, asDba, approve)).rejects.toThrow(/you requested this rollout/);
    const sreToken = await createToken(pool, "sre", { name: "sre ci", role: "sre", days: 7 }, sre);
    const asSre = (await tokenActor(serverCache(), sreToken.secret))!;
    expect(await decideRollout(pool, fixedTargets(targets), onProd.id, asSre, approve)).toEqual({ message: "approval recorded (1 of 2)" });
    expect((await pool.query("SELECT approver, approver_role FROM approval WHERE rollout_id = $1", [onProd.id])).rows).toEqual([
      { approver: "sre", approver_role: "sre" },
    ]);
    const { rows } = await pool.query(
      "SELECT actor, role, details->>'via' AS via FROM audit_log WHERE action IN ('rollout.create', 'rollout.approve', 'rollout.refused') ORDER BY id",
    );
    expect(rows).toEqual([
      { actor: "dba", role: "dba", via: null },
      { actor: "sre", role: "sre", via: `token ${sreToken.token.id}` },
    ]);
    const onStage = await createRollout(pool, fixedTargets(targets), { changesetId: cs, targetId: "stage" }, asScoped);
    expect(
      (await pool.query("SELECT details->>'via' AS via FROM audit_log WHERE action = 'rollout.create' AND rollout_id = $1", [onStage.id]))
        .rows,
    ).toEqual([{ via: `token ${scoped.token.id}` }]);
    expect((await verifyAudit(pool)).ok).toBe(true);
  });

  it("reads a bearer header strictly", () => {
    expect(bearerSecret("Bearer idt_abc")).toBe("idt_abc");
    expect(bearerSecret("bearer   idt_abc ")).toBe("idt_abc");
    expect(bearerSecret("Basic idt_abc")).toBeNull();
    expect(bearerSecret("Bearer e2e-metrics-token")).toBeNull();
    expect(bearerSecret("Bearer idt_a idt_b")).toBeNull();
    expect(TokenError).toBeDefined();
  });
});
