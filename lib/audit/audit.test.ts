import type { Socket } from "node:net";
import pg from "pg";
import { beforeEach, describe, expect, it } from "vitest";
import { freshDatabase, pgServers } from "../testing/db";
import { withTransaction } from "../store/pool";
import { appendAudit } from "./log";
import { recentVerdict } from "./recent-verdict";
import { verifyAudit } from "./verify";
import { auditHashV1, chainHash, contentHash, GENESIS_HASH } from "./canonical";

describe.each(pgServers())("audit log on $name PostgreSQL", (server) => {
  let pool: pg.Pool;
  beforeEach(async () => {
    pool = new pg.Pool({ connectionString: await freshDatabase(server) });
    return () => pool.end();
  });

  async function appendMany(n: number) {
    for (let i = 0; i < n; i++) {
      await withTransaction(pool, (tx) =>
        appendAudit(tx, { actor: `user${i}`, role: "dba", action: "test.event", details: { i, note: "x" } }),
      );
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
    await expect(
      withTransaction(pool, async (tx) => {
        await appendAudit(tx, { actor: "a", role: "dba", action: "x" });
        throw new Error("the change failed");
      }),
    ).rejects.toThrow("the change failed");
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

  it("verifies from a known head: the rows after it must chain onto its hash", async () => {
    await appendMany(3);
    const whole = await verifyAudit(pool);
    await appendMany(2);
    expect(await verifyAudit(pool, { id: whole.headId!, hash: whole.headHash! })).toMatchObject({ ok: true, rows: 2 });
    expect(await verifyAudit(pool, { id: whole.headId!, hash: "f".repeat(64) })).toMatchObject({
      ok: false,
      firstBadId: whole.headId! + 1,
    });
  });

  it("answers the pages from the last whole-chain run plus the rows after it, and catches an older edit at the next run", async () => {
    await appendMany(4);
    const first = await recentVerdict(pool, 60_000);
    expect(first).toMatchObject({ ok: true, rows: 4 });
    await appendMany(2);
    const second = await recentVerdict(pool, 60_000);
    expect(second).toMatchObject({ ok: true, rows: 6 });
    expect(second.wholeChainAt).toEqual(first.wholeChainAt); // no second whole run within the interval
    const [oldRow] = await ids();
    const newest = (await ids()).at(-1)!;
    // A row written since the whole run is checked on every view.
    const {
      rows: [{ original }],
    } = await pool.query<{ original: string }>("SELECT details::text AS original FROM audit_log WHERE id = $1", [newest]);
    await tamper(`UPDATE audit_log SET details = '{"i": 99}' WHERE id = ${newest}`);
    expect(await recentVerdict(pool, 60_000)).toMatchObject({ ok: false, firstBadId: newest });
    await tamper(`UPDATE audit_log SET details = '${original}' WHERE id = ${newest}`); // put back as it was
    expect(await recentVerdict(pool, 60_000)).toMatchObject({ ok: true, rows: 6 });
    // An older row is the whole run's business: past the interval, the next run finds it.
    await tamper(`UPDATE audit_log SET actor = 'mallory' WHERE id = ${oldRow}`);
    await recentVerdict(pool, 0); // starts the run behind the last verdict
    let verdict = await recentVerdict(pool, 60_000);
    for (let i = 0; i < 100 && verdict.ok; i++) {
      await new Promise((r) => setTimeout(r, 50));
      verdict = await recentVerdict(pool, 60_000);
    }
    expect(verdict).toMatchObject({ ok: false, firstBadId: oldRow });
  });

  it("shares one tail check among views that ask at once, and never one that started before a view asked", async () => {
    await appendMany(1);
    // Counts the checks that read rows. With `onFirstRow` set, the next check's socket stops at its
    // first row (its snapshot taken, most of its rows still to read) until `resume` is called.
    let connects = 0;
    let onFirstRow: ((resume: () => void) => void) | null = null;
    const counted = {
      connect: async () => {
        connects++;
        const client = await pool.connect();
        const query = client.query.bind(client) as (...args: unknown[]) => unknown;
        (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args) => {
          const hold = onFirstRow;
          if (hold && args[0] instanceof pg.Query) {
            onFirstRow = null;
            args[0].once("row", () => {
              const socket = (client as unknown as { connection: { stream: Socket } }).connection.stream;
              socket.pause();
              hold(() => socket.resume());
            });
          }
          return query(...args);
        };
        return client;
      },
    } as unknown as pg.Pool;
    await recentVerdict(counted, 60_000); // the whole run, cached for the views below
    // More rows than one socket read holds, so the held check has most of them still to read.
    await withTransaction(pool, async (tx) => {
      for (let i = 0; i < 3_000; i++) await appendAudit(tx, { actor: "bulk", role: "dba", action: "test.event", details: { i } });
    });
    connects = 0;
    const held = new Promise<() => void>((resolve) => (onFirstRow = resolve));
    const before = recentVerdict(counted, 60_000);
    const resume = await held;
    await appendMany(1); // written after the first view's check took its snapshot, while it still reads
    const after = Promise.all(Array.from({ length: 20 }, () => recentVerdict(counted, 60_000)));
    resume();
    expect(await before).toMatchObject({ ok: true, rows: 3_001 });
    for (const v of await after) expect(v).toMatchObject({ ok: true, rows: 3_002 });
    expect(connects).toBeLessThanOrEqual(3); // the first view's check, and at most two after it
  });

  it("reports a row whose time no date can hold as edited, rather than failing to check it", async () => {
    await appendMany(3);
    const [, second] = await ids();
    await tamper(`UPDATE audit_log SET at = 'infinity' WHERE id = ${second}`);
    expect(await verifyAudit(pool)).toMatchObject({ ok: false, firstBadId: second, reason: expect.stringContaining("edited") });
  });

  it("detects a time moved to the same date BC, or by less than a millisecond", async () => {
    await appendMany(3);
    const [first, second] = await ids();
    // The ISO text of year 2026 BC without its era would read as the original date.
    await tamper(
      `UPDATE audit_log SET at = (to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') || ' BC')::timestamp AT TIME ZONE 'UTC' WHERE id = ${first}`,
    );
    expect(await verifyAudit(pool)).toMatchObject({ ok: false, firstBadId: first, reason: expect.stringContaining("edited") });
    await tamper(
      `UPDATE audit_log SET at = (to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') || ' AD')::timestamp AT TIME ZONE 'UTC' WHERE id = ${first}`,
    );
    expect(await verifyAudit(pool)).toMatchObject({ ok: true, rows: 3 });
    await tamper(`UPDATE audit_log SET at = at + interval '400 microseconds' WHERE id = ${second}`);
    expect(await verifyAudit(pool)).toMatchObject({ ok: false, firstBadId: second });
  });

  it("stops at the first bad row of a long chain, and leaves the pool usable", async () => {
    await Promise.all(Array.from({ length: 4 }, () => appendMany(50)));
    const list = await ids();
    await tamper(`UPDATE audit_log SET actor = 'mallory' WHERE id = ${list[9]}`);
    expect(await verifyAudit(pool)).toMatchObject({ ok: false, rows: 10, firstBadId: list[9] });
    expect(pool.totalCount).toBe(pool.idleCount); // no connection left busy with the rest of the read
    expect((await pool.query("SELECT count(*)::int AS n FROM audit_log")).rows[0].n).toBe(200);
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
    const {
      rows: [first],
    } = await pool.query("SELECT hash FROM audit_log WHERE id = $1", [list[0]]);
    // Hashed correctly, so only its link to the row before it gives it away.
    const id = list[2] + 1;
    const content = {
      at: new Date(),
      actor: "mallory",
      role: "dba",
      action: "rollout.approve",
      targetId: null,
      rolloutId: null,
      changesetSha256: null,
      details: {},
    };
    const c = contentHash(content);
    await tamper(`INSERT INTO audit_log (id, at, actor, role, action, details, prev_hash, hash, scheme, content_hash)
                  VALUES (${id}, '${content.at.toISOString()}', 'mallory', 'dba', 'rollout.approve', '{}', '${first.hash}', '${chainHash(id, first.hash, c)}', 2, '${c}')`);
    expect(await verifyAudit(pool)).toMatchObject({ ok: false, firstBadId: id });
  });

  it("detects a content hash changed without the content (sign-offs look rows up by it)", async () => {
    await appendMany(3);
    const [, second] = await ids();
    await tamper(`UPDATE audit_log SET content_hash = repeat('a', 64) WHERE id = ${second}`);
    expect(await verifyAudit(pool)).toMatchObject({ ok: false, firstBadId: second });
  });

  it("continues a chain written before hash scheme 2, and still checks the old rows", async () => {
    const old = {
      id: 1,
      at: new Date("2026-01-01T00:00:00Z"),
      actor: "admin",
      role: "admin",
      action: "user.create",
      targetId: null,
      rolloutId: null,
      changesetSha256: null,
      details: { email: "x@example.com" },
      prevHash: GENESIS_HASH,
    };
    await tamper(`SELECT setval('audit_log_id_seq', 1);
                  INSERT INTO audit_log (id, at, actor, role, action, details, prev_hash, hash, scheme)
                  VALUES (1, '${old.at.toISOString()}', 'admin', 'admin', 'user.create', '{"email": "x@example.com"}', '${GENESIS_HASH}', '${auditHashV1(old)}', 1)`);
    await appendMany(2);
    const rows = (await pool.query("SELECT id, scheme, prev_hash FROM audit_log ORDER BY id")).rows;
    expect(rows.map((r) => r.scheme)).toEqual([1, 3, 3]);
    expect(rows[1].prev_hash).toBe(auditHashV1(old));
    expect(await verifyAudit(pool)).toMatchObject({ ok: true, rows: 3 });
    await tamper(`UPDATE audit_log SET details = '{"email": "y@example.com"}' WHERE id = 1`);
    expect(await verifyAudit(pool)).toMatchObject({ ok: false, firstBadId: 1 });
  });

  it("refuses a row written in a REPEATABLE READ transaction, and the change with it", async () => {
    await pool.query("CREATE TABLE change_probe (x int)");
    const c = await pool.connect();
    try {
      await c.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
      await c.query("INSERT INTO change_probe VALUES (1)");
      await appendAudit(c, { actor: "a", role: "dba", action: "x" });
      await expect(c.query("COMMIT")).rejects.toThrow(/READ COMMITTED/);
    } finally {
      c.release();
    }
    expect((await pool.query("SELECT count(*)::int AS n FROM change_probe")).rows[0].n).toBe(0);
    expect((await verifyAudit(pool)).rows).toBe(0);
  });

  it("clears linked rows from the pending table in batches", async () => {
    const c = await pool.connect();
    try {
      // One transaction per row, as in the app; 1,100 rows cross one batch boundary.
      for (let i = 0; i < 1100; i++) {
        await c.query("BEGIN");
        await appendAudit(c, { actor: "a", role: "dba", action: "bulk", details: { i } });
        await c.query("COMMIT");
      }
    } finally {
      c.release();
    }
    const pending = (await pool.query("SELECT count(*)::int AS n FROM audit_pending")).rows[0].n;
    expect(pending).toBeLessThan(1000);
    expect(await verifyAudit(pool)).toMatchObject({ ok: true, rows: 1100 });
  });

  it("detects reordered rows", async () => {
    await appendMany(4);
    const [a, b] = await ids();
    await tamper(
      `UPDATE audit_log SET id = -1 WHERE id = ${a}; UPDATE audit_log SET id = ${a} WHERE id = ${b}; UPDATE audit_log SET id = ${b} WHERE id = -1`,
    );
    expect(await verifyAudit(pool)).toMatchObject({ ok: false, firstBadId: a });
  });
});
