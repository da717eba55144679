import pg from "pg";
import { beforeEach, describe, expect, it } from "vitest";
import { freshDatabase, pgServers } from "../testing/db";
import { withTransaction } from "../store/pool";
import { appendAudit } from "./log";
import { verifyAudit } from "./verify";

describe.each(pgServers())("audit log on $name PostgreSQL", (server) => {
  let pool: pg.Pool;
  beforeEach(async () => {
    pool = new pg.Pool({ connectionString: await freshDatabase(server) });
    return () => pool.end();
  });

  async function appendMany(n: number) {
    for (let i = 0; i < n; i++) {
      await withTransaction(pool, (tx) => appendAudit(tx, { actor: `user${i}`, role: "dba", action: "test.event", details: { i, note: "x" } }));
    }
  }

  it("verifies an untouched chain and reports its head", async () => {
    await appendMany(5);
    const r = await verifyAudit(pool);
    expect(r).toMatchObject({ ok: true, rows: 5, firstBadId: null });
    expect(r.headHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("refuses UPDATE, DELETE and TRUNCATE", async () => {
    await appendMany(1);
    await expect(pool.query("UPDATE audit_log SET actor = 'mallory'")).rejects.toThrow(/append-only/);
    await expect(pool.query("DELETE FROM audit_log")).rejects.toThrow(/append-only/);
    await expect(pool.query("TRUNCATE audit_log")).rejects.toThrow(/append-only/);
  });

  it("drops the row together with a change that rolls back", async () => {
    await expect(withTransaction(pool, async (tx) => {
      await appendAudit(tx, { actor: "a", role: "dba", action: "x" });
      throw new Error("the change failed");
    })).rejects.toThrow("the change failed");
    expect((await verifyAudit(pool)).rows).toBe(0);
  });

  it("never forks under concurrent writers", async () => {
    await Promise.all(Array.from({ length: 8 }, () => appendMany(10)));
    const r = await verifyAudit(pool);
    expect(r).toMatchObject({ ok: true, rows: 80 });
  });

  // Tampering as a superuser who disables the triggers first.
  async function tamper(sql: string) {
    const c = await pool.connect();
    try {
      await c.query("ALTER TABLE audit_log DISABLE TRIGGER USER");
      await c.query(sql);
      await c.query("ALTER TABLE audit_log ENABLE TRIGGER USER");
    } finally {
      c.release();
    }
  }

  const ids = async () => (await pool.query<{ id: number }>("SELECT id FROM audit_log ORDER BY id")).rows.map((r) => r.id);

  it("detects an edited row", async () => {
    await appendMany(5);
    const [, second] = await ids();
    await tamper(`UPDATE audit_log SET details = '{"i": 99}' WHERE id = ${second}`);
    expect(await verifyAudit(pool)).toMatchObject({ ok: false, firstBadId: second });
  });

  it("detects a removed row", async () => {
    await appendMany(5);
    const list = await ids();
    await tamper(`DELETE FROM audit_log WHERE id = ${list[2]}`);
    expect(await verifyAudit(pool)).toMatchObject({ ok: false, firstBadId: list[3] });
  });

  it("detects a forged row inserted into the chain", async () => {
    await appendMany(3);
    const list = await ids();
    const { rows: [prev] } = await pool.query("SELECT hash FROM audit_log WHERE id = $1", [list[0]]);
    await tamper(`INSERT INTO audit_log (id, at, actor, action, details, prev_hash, hash)
                  VALUES (${list[0]} + 0.5 * 0 + 1000000, now(), 'mallory', 'rollout.approve', '{}', '${prev.hash}', repeat('f', 64))`);
    expect((await verifyAudit(pool)).ok).toBe(false);
  });

  it("detects reordered rows", async () => {
    await appendMany(4);
    const [a, b] = await ids();
    await tamper(`UPDATE audit_log SET id = -1 WHERE id = ${a}; UPDATE audit_log SET id = ${a} WHERE id = ${b}; UPDATE audit_log SET id = ${b} WHERE id = -1`);
    expect(await verifyAudit(pool)).toMatchObject({ ok: false, firstBadId: a });
  });
});
