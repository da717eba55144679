import pg from "pg";
import { describe, expect, it } from "vitest";
import { SessionUsers } from "../auth/sessions";
import { ApiTokens, tokenActor } from "../auth/tokens";
import { authenticate } from "../auth/users";
import { freshDatabase, pgServers } from "../testing/db";
import { runCli } from "./testing";

describe.each(pgServers())("indexdeck tokens create|list|revoke on $name PostgreSQL", (server) => {
  it("creates a token printed once, lists it without its secret, revokes it; service users have no password", async () => {
    const url = await freshDatabase(server);
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = url;
    const pool = new pg.Pool({ connectionString: url });
    try {
      expect(await runCli(["users", "add", "--email", "ci-bot", "--role", "sre", "--service"])).toMatchObject({
        code: 0,
        out: expect.stringContaining("created service user ci-bot (sre)"),
      });
      expect(await authenticate(pool, "ci-bot", "!", "192.0.2.3")).toEqual({ ok: false, reason: "invalid" });

      const created = await runCli([
        "tokens",
        "create",
        "--email",
        "ci-bot",
        "--name",
        "deploy pipeline",
        "--role",
        "sre",
        "--days",
        "90",
        "--target",
        "stage",
      ]);
      expect(created).toMatchObject({ code: 0, err: "" });
      const secret = /(idt_\S+)/.exec(created.out)![1];
      const id = Number(/created token (\d+) for ci-bot \(sre on stage\)/.exec(created.out)![1]);
      const cache = () => new ApiTokens(pool, new SessionUsers(pool));
      expect(await tokenActor(cache(), secret)).toMatchObject({ email: "ci-bot", role: "sre", via: { tokenId: id, targets: ["stage"] } });

      const listed = await runCli(["tokens", "list", "--json"]);
      expect(JSON.parse(listed.out)).toEqual([
        expect.objectContaining({ id, owner: "ci-bot", name: "deploy pipeline", role: "sre", targets: ["stage"], status: "active" }),
      ]);
      expect(listed.out).not.toContain(secret.slice(4));
      expect((await runCli(["tokens", "list"])).out).toMatch(
        new RegExp(`^\\s*${id}  ci-bot  deploy pipeline  sre  active  expires \\d{4}-`),
      );

      expect(await runCli(["tokens", "create", "--email", "ci-bot", "--name", "x", "--role", "admin", "--days", "9"])).toMatchObject({
        code: 1,
        err: expect.stringContaining("role admin is higher than ci-bot's role sre"),
      });
      expect(await runCli(["tokens", "create", "--email", "ci-bot", "--name", "x", "--role", "sre", "--days", "400"])).toMatchObject({
        code: 2,
        err: expect.stringContaining("--days: days must be at most 365"),
      });
      expect(await runCli(["tokens", "create", "--email", "ci-bot", "--name", "x", "--role", "sre"])).toMatchObject({
        code: 2,
        err: expect.stringContaining("needs --email, --name, --role and --days"),
      });

      expect(await runCli(["tokens", "revoke", "--id", String(id)])).toEqual({
        code: 0,
        out: `revoked token ${id} (deploy pipeline) of ci-bot\n`,
        err: "",
      });
      expect(await tokenActor(cache(), secret)).toBeNull();
      expect(await runCli(["tokens", "revoke", "--id", String(id)])).toMatchObject({
        code: 1,
        err: expect.stringContaining(`token ${id} is already revoked`),
      });
      expect(JSON.parse((await runCli(["tokens", "list", "--json", "--email", "ci-bot"])).out)[0].status).toBe("revoked");
      const { rows } = await pool.query(
        "SELECT actor, action FROM audit_log WHERE action LIKE 'token.%' OR details ? 'service' ORDER BY id",
      );
      expect(rows).toEqual([
        { actor: "cli", action: "user.create" },
        { actor: "cli", action: "token.create" },
        { actor: "cli", action: "token.revoke" },
      ]);
    } finally {
      await pool.end();
      process.env.DATABASE_URL = saved;
    }
  });
});
