import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../cli/testing";
import { freshDatabase, pgServers } from "../testing/db";
import { withTransaction } from "../store/pool";
import { AnchorError, appendCheckpoint, checkpointAudit, readAnchor } from "./anchor";
import { chainHash, chainHashV3, contentHash, GENESIS_HASH, statedContentHash } from "./canonical";
import { requireAuditKey } from "./key";
import { appendAudit } from "./log";
import { verifyAudit } from "./verify";

// What a superuser on the store can do: disable the triggers and write audit_log as they like, with
// plain SHA-256 — but without INDEXDECK_AUDIT_KEY, which lives with the app servers, and without the
// anchor file, which lives outside the store.
describe.each(pgServers())("audit chain anchored outside the store, on $name PostgreSQL", (server) => {
  let pool: pg.Pool;
  let url: string;
  let anchor: string;
  const key = () => requireAuditKey();

  beforeEach(async () => {
    url = await freshDatabase(server);
    pool = new pg.Pool({ connectionString: url });
    anchor = path.join(await mkdtemp(path.join(tmpdir(), "indexdeck-anchor-")), "audit.anchor");
    return () => pool.end();
  });

  async function appendMany(n: number) {
    for (let i = 0; i < n; i++) {
      await withTransaction(pool, (tx) => appendAudit(tx, { actor: `user${i}`, role: "dba", action: "test.event", details: { i } }));
    }
  }

  async function asSuperuser(fn: (c: pg.PoolClient) => Promise<void>) {
    const c = await pool.connect();
    try {
      await c.query("ALTER TABLE audit_log DISABLE TRIGGER USER");
      await fn(c);
      await c.query("ALTER TABLE audit_log ENABLE TRIGGER USER");
    } finally {
      c.release();
    }
  }

  type Row = {
    id: number;
    at: Date;
    actor: string | null;
    role: string | null;
    action: string;
    target_id: string | null;
    rollout_id: number | null;
    changeset_sha256: string | null;
    details: Record<string, unknown>;
    mac: string | null;
  };
  const rows = async () =>
    (
      await pool.query<Row>(
        "SELECT id, at, actor, role, action, target_id, rollout_id, changeset_sha256, details, mac FROM audit_log ORDER BY id",
      )
    ).rows;
  const content = (r: Row) =>
    statedContentHash({
      at: r.at.toISOString(),
      actor: r.actor,
      role: r.role,
      action: r.action,
      targetId: r.target_id,
      rolloutId: r.rollout_id,
      changesetSha256: r.changeset_sha256,
      details: r.details,
    });

  /** Rewrites every row's hashes from its (possibly edited) content, as `audit verify` would recompute them. */
  async function recompute(c: pg.PoolClient, scheme: 2 | 3) {
    let prev = GENESIS_HASH;
    for (const r of await rows()) {
      const ch = content(r);
      const hash = scheme === 2 ? chainHash(r.id, prev, ch) : chainHashV3(r.id, prev, ch, r.mac!);
      await c.query("UPDATE audit_log SET prev_hash = $2, hash = $3, content_hash = $4, scheme = $5, mac = $6 WHERE id = $1", [
        r.id,
        prev,
        hash,
        ch,
        scheme,
        scheme === 2 ? null : r.mac,
      ]);
      prev = hash;
    }
  }

  it("signs every new row with the key, outside the database's reach", async () => {
    await appendMany(3);
    const list = await rows();
    expect(list).toHaveLength(3);
    for (const r of list) expect(r.mac).toMatch(/^[0-9a-f]{64}$/);
    expect(await verifyAudit(pool, null, { key: key() })).toMatchObject({
      ok: true,
      rows: 3,
      keyedFrom: list[0].id,
      signaturesChecked: true,
    });
  });

  it("detects an edited row whose chain was recomputed from scratch with plain SHA-256", async () => {
    await appendMany(5);
    const [, second] = await rows();
    await asSuperuser(async (c) => {
      await c.query(`UPDATE audit_log SET details = '{"i": 99}' WHERE id = $1`, [second.id]);
      await recompute(c, 3);
    });
    // The SHA-256 chain alone (all that was checked before) holds: every link was recomputed.
    expect(await verifyAudit(pool, null, { key: null })).toMatchObject({ ok: true, rows: 5 });
    expect(await verifyAudit(pool, null, { key: key() })).toMatchObject({
      ok: false,
      firstBadId: second.id,
      reason: expect.stringContaining("without the audit key"),
    });
  });

  it("detects a chain stripped of its signatures and recomputed, and a row removed and relinked, against the anchor", async () => {
    await appendMany(5);
    expect((await checkpointAudit(pool, anchor, key())).checkpoint).toMatchObject({ id: (await rows())[4].id });
    const [first, second] = await rows();
    await asSuperuser(async (c) => {
      await c.query(`UPDATE audit_log SET details = '{"i": 99}' WHERE id = $1`, [second.id]);
      await recompute(c, 2);
    });
    expect(await verifyAudit(pool, null, { key: key() })).toMatchObject({ ok: true }); // nothing signed is left to check
    expect(await verifyAudit(pool, null, { key: key(), anchor: await readAnchor(anchor, key()) })).toMatchObject({
      ok: false,
      firstBadId: first.id,
      reason: expect.stringContaining("unsigned row"),
    });
  });

  it("detects a row removed and the rest relinked (their own signatures kept), against the anchor", async () => {
    await appendMany(5);
    await checkpointAudit(pool, anchor, key());
    const [, second, third] = await rows();
    await asSuperuser(async (c) => {
      await c.query("DELETE FROM audit_log WHERE id = $1", [second.id]);
      await recompute(c, 3);
    });
    // Every remaining row is as signed; only the links changed, and those are plain SHA-256.
    expect(await verifyAudit(pool, null, { key: key() })).toMatchObject({ ok: true, rows: 4 });
    const last = (await rows()).at(-1)!;
    expect(await verifyAudit(pool, null, { key: key(), anchor: await readAnchor(anchor, key()) })).toMatchObject({
      ok: false,
      firstBadId: last.id,
      reason: expect.stringContaining("differs from the checkpoint"),
    });
    expect(third.id).toBeLessThan(last.id);
  });

  it("detects the very row a checkpoint named removed, with the rows after it relinked", async () => {
    await appendMany(3);
    const { checkpoint } = await checkpointAudit(pool, anchor, key());
    await appendMany(2);
    await asSuperuser(async (c) => {
      await c.query("DELETE FROM audit_log WHERE id = $1", [checkpoint!.id]);
      await recompute(c, 3);
    });
    expect(await verifyAudit(pool, null, { key: key() })).toMatchObject({ ok: true, rows: 4 });
    expect(await verifyAudit(pool, null, { key: key(), anchor: await readAnchor(anchor, key()) })).toMatchObject({
      ok: false,
      firstBadId: checkpoint!.id,
      reason: expect.stringContaining("is missing (rows were removed)"),
    });
  });

  it("detects a forged row at the head, signed or not", async () => {
    await appendMany(3);
    const head = (await verifyAudit(pool)).headHash!;
    const id = (await rows())[2].id + 1;
    const forged = {
      at: new Date(),
      actor: "mallory",
      role: "admin",
      action: "rollout.approve",
      targetId: null,
      rolloutId: null,
      changesetSha256: null,
      details: {},
    };
    const c = contentHash(forged);
    const fakeMac = "ab".repeat(32);
    await asSuperuser((db) =>
      db
        .query(
          `INSERT INTO audit_log (id, at, actor, role, action, details, prev_hash, hash, scheme, content_hash, mac)
       VALUES ($1, $2, 'mallory', 'admin', 'rollout.approve', '{}', $3, $4, 3, $5, $6)`,
          [id, forged.at, head, chainHashV3(id, head, c, fakeMac), c, fakeMac],
        )
        .then(() => undefined),
    );
    expect(await verifyAudit(pool, null, { key: null })).toMatchObject({ ok: true, rows: 4 });
    expect(await verifyAudit(pool, null, { key: key() })).toMatchObject({
      ok: false,
      firstBadId: id,
      reason: expect.stringContaining("without the audit key"),
    });

    await asSuperuser(async (db) => {
      await db.query("DELETE FROM audit_log WHERE id = $1", [id]);
      await db.query(
        `INSERT INTO audit_log (id, at, actor, role, action, details, prev_hash, hash, scheme, content_hash)
         VALUES ($1, $2, 'mallory', 'admin', 'rollout.approve', '{}', $3, $4, 2, $5)`,
        [id, forged.at, head, chainHash(id, head, c), c],
      );
    });
    expect(await verifyAudit(pool, null, { key: key() })).toMatchObject({
      ok: false,
      firstBadId: id,
      reason: expect.stringContaining("unsigned row"),
    });
  });

  it("detects rows removed from the tail after a checkpoint", async () => {
    await appendMany(4);
    await checkpointAudit(pool, anchor, key());
    const list = await rows();
    await asSuperuser((c) => c.query("DELETE FROM audit_log WHERE id >= $1", [list[2].id]).then(() => undefined));
    expect(await verifyAudit(pool, null, { key: key() })).toMatchObject({ ok: true, rows: 2 });
    expect(await verifyAudit(pool, null, { key: key(), anchor: await readAnchor(anchor, key()) })).toMatchObject({
      ok: false,
      reason: expect.stringContaining(`saw it reach row ${list[3].id} (rows were removed)`),
    });
  });

  it("refuses an anchor file that was edited or signed with another key, naming the line", async () => {
    await appendMany(2);
    await checkpointAudit(pool, anchor, key());
    await appendMany(1);
    await checkpointAudit(pool, anchor, key());
    const lines = (await readFile(anchor, "utf8")).trim().split("\n");
    expect(lines).toHaveLength(2);
    const edited = { ...JSON.parse(lines[1]), hash: "0".repeat(64) };
    await writeFile(anchor, `${lines[0]}\n${JSON.stringify(edited)}\n`);
    await expect(readAnchor(anchor, key())).rejects.toThrow(
      new AnchorError(`${anchor}:2: checkpoint of row ${edited.id} is not signed with this INDEXDECK_AUDIT_KEY (edited, or another key)`),
    );
    await writeFile(anchor, "");
    await appendCheckpoint(anchor, Buffer.from("another key, another key, another key"), { id: 1, hash: "1".repeat(64), keyedFrom: 1 });
    await expect(readAnchor(anchor, key())).rejects.toThrow(`${anchor}:1: checkpoint of row 1 is not signed`);
    await writeFile(anchor, '{"id": 1}\n');
    await expect(readAnchor(anchor, key())).rejects.toThrow(`${anchor}:1: a checkpoint needs id`);
  });

  it("indexdeck audit checkpoint / verify --anchor: writes a checkpoint only for an intact chain, exit 1 once rewritten", async () => {
    await appendMany(3);
    const env = process.env.DATABASE_URL;
    process.env.DATABASE_URL = url;
    try {
      const written = await runCli(["audit", "checkpoint", "--anchor", anchor]);
      expect(written).toMatchObject({ code: 0, err: "" });
      expect(written.out).toMatch(/^checkpoint: row \d+, hash [0-9a-f]{64}\n$/);
      const ok = await runCli(["audit", "verify", "--anchor", anchor, "--json"]);
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.out)).toMatchObject({ ok: true, rows: 3, firstBadId: null, signaturesChecked: true, checkpoints: 1 });
      const [first] = await rows();
      await asSuperuser(async (c) => {
        await c.query(`UPDATE audit_log SET actor = 'mallory' WHERE id = $1`, [first.id]);
        await recompute(c, 2);
      });
      const broken = await runCli(["audit", "verify", "--anchor", anchor]);
      expect(broken.code).toBe(1);
      expect(broken.out).toContain(`audit chain BROKEN at row ${first.id}: unsigned row`);
      expect((await runCli(["audit", "checkpoint", "--anchor", anchor])).code).toBe(1);
      expect((await readFile(anchor, "utf8")).trim().split("\n")).toHaveLength(1);
      const missing = await runCli(["audit", "verify", "--anchor", path.join(path.dirname(anchor), "nope")]);
      expect(missing.code).toBe(2);
      expect(missing.err).toContain("nope: cannot read the anchor file");
    } finally {
      if (env === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = env;
    }
  });
});
