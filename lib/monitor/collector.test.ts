import { copyFile, mkdtemp, readdir } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { parseTargetsFile } from "../targets/config";
import { quoteIdent } from "../sql/quote";
import { APP_MIGRATIONS_DIR, migrate } from "../store/migrator";
import { freshDatabase, freshRole, pgServers } from "../testing/db";
import { collectIntervalFromEnv, collectorStatuses, collectTarget, startCollector } from "./collector";
import { refreshUsageRates, usageSummary } from "./usage";
import { fixedTargets } from "../targets/source";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function scan(url: string, times: number) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query("SET enable_seqscan = off");
  for (let i = 0; i < times; i++) await c.query("SELECT * FROM t WHERE k = $1", [i]);
  await c.query("SELECT pg_stat_force_next_flush()");
  await c.query("SELECT 1");
  await c.end();
}

/** A TCP relay to a server that holds each connection `delayMs` before passing it on, and counts how many are open at once. */
async function countingRelay(to: string, delayMs: number) {
  const { hostname, port } = new URL(to);
  let open = 0;
  let maxOpen = 0;
  const relay = net.createServer((client) => {
    maxOpen = Math.max(maxOpen, ++open);
    const upstream = net.connect(Number(port || 5432), hostname);
    const timer = setTimeout(() => client.pipe(upstream).pipe(client), delayMs);
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      open--;
      clearTimeout(timer);
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) s.on("close", close).on("error", close);
  });
  await new Promise<void>((r) => relay.listen(0, "127.0.0.1", r));
  const url = Object.assign(new URL(to), { host: `127.0.0.1:${(relay.address() as net.AddressInfo).port}` }).toString();
  return { url, maxOpen: () => maxOpen, close: () => new Promise((r) => relay.close(r)) };
}

const target = (id: string, url: string) =>
  parseTargetsFile(JSON.stringify({ targets: [{ id, label: id, environment: "staging", url, approvals: { required: 0 } }] }), "t.json")[0];

describe.each(pgServers())("usage collector on $name PostgreSQL", (server) => {
  it("records deltas that stay right across pg_stat_reset(): never negative, never counted twice", async () => {
    const store = new pg.Pool({ connectionString: await freshDatabase(server) });
    const url = await freshDatabase(server, "empty");
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query("CREATE TABLE t (k int); INSERT INTO t SELECT generate_series(1, 1000); CREATE INDEX t_k ON t (k)");
    const tgt = target("u", url);
    await collectTarget(store, tgt); // baseline: nothing counted yet
    await scan(url, 5);
    await collectTarget(store, tgt);
    await scan(url, 4);
    await c.query("SELECT pg_stat_reset()");
    await scan(url, 3);
    await collectTarget(store, tgt);
    const { rows } = await store.query(
      "SELECT scans::int, reset FROM usage_delta WHERE index_key = 'public.t_k' AND resolution = 'raw' ORDER BY bucket_start",
    );
    // The 4 scans between the second snapshot and the reset are unknowable: counted as nothing.
    expect(rows).toEqual([
      { scans: 5, reset: false },
      { scans: 3, reset: true },
    ]);
    const { rows: rollups } = await store.query(
      `SELECT resolution, sum(scans)::int AS scans, bool_or(reset) AS reset FROM usage_delta
        WHERE index_key = 'public.t_k' AND resolution <> 'raw' GROUP BY resolution ORDER BY resolution`,
    );
    expect(rollups).toEqual(["1d", "1h", "5m"].map((resolution) => ({ resolution, scans: 8, reset: true })));
    await c.end();
    await store.end();
  });

  it("tells a permission-limited monitoring role which grant it lacks, writes nothing for it, and collects once granted", async () => {
    const store = new pg.Pool({ connectionString: await freshDatabase(server) });
    const url = await freshDatabase(server, "empty");
    const role = await freshRole(server);
    const database = quoteIdent(new URL(url).pathname.slice(1));
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      // A hardened server: statistics views for pg_monitor only, and CONNECT only where granted.
      await admin.query(`CREATE TABLE t (k int); CREATE INDEX t_k ON t (k);
        REVOKE CONNECT ON DATABASE ${database} FROM PUBLIC;
        REVOKE SELECT ON pg_catalog.pg_statio_user_indexes FROM PUBLIC;
        GRANT SELECT ON pg_catalog.pg_statio_user_indexes TO pg_monitor`);
      const tgt = target("limited", role.url(url));
      await expect(collectTarget(store, tgt)).rejects.toThrow(/permission denied for database.*needs CONNECT on the database/);
      await admin.query(`GRANT CONNECT ON DATABASE ${database} TO ${quoteIdent(role.name)}`);
      await expect(collectTarget(store, tgt)).rejects.toThrow(
        /permission denied for (view|relation) pg_statio_user_indexes: the monitoring role needs pg_monitor \(GRANT pg_monitor TO <role>\)/,
      );
      const {
        rows: [{ n }],
      } = await store.query("SELECT count(*)::int AS n FROM usage_snapshot WHERE target_id = 'limited'");
      expect(n).toBe(0);
      await admin.query(`GRANT pg_monitor TO ${quoteIdent(role.name)}`);
      expect(await collectTarget(store, tgt)).toMatchObject({ indexes: 1 });
    } finally {
      await admin.end();
      await store.end();
    }
  });

  it("collects a fleet with no more target connections open at once than its concurrency, batch after batch", async () => {
    const store = new pg.Pool({ connectionString: await freshDatabase(server) });
    const relay = await countingRelay(await freshDatabase(server, "empty"), 300);
    const fleet = Array.from({ length: 10 }, (_, i) => target(`fleet-${i}`, relay.url));
    const collector = startCollector({
      pool: store,
      targets: fixedTargets(fleet),
      intervalMs: 60_000,
      concurrency: 3,
      log: () => undefined,
    });
    try {
      const collected = async () =>
        (await store.query("SELECT count(DISTINCT target_id)::int AS n FROM usage_snapshot")).rows[0].n as number;
      const started = Date.now();
      while ((await collected()) < fleet.length && Date.now() - started < 30_000) await sleep(100);
      expect(await collected()).toBe(fleet.length);
      expect(relay.maxOpen()).toBe(3);
    } finally {
      await collector.stop();
      await relay.close();
      await store.end();
    }
  });

  it("collects each target once per interval across two servers, and keeps going when one target is down", async () => {
    const store = new pg.Pool({ connectionString: await freshDatabase(server) });
    const urls = await Promise.all([1, 2].map(() => freshDatabase(server, "empty")));
    const targets = [target("a", urls[0]), target("b", urls[1]), target("down", "postgres://u:pw@127.0.0.1:1/x")];
    const opts = { pool: store, targets: fixedTargets(targets), intervalMs: 1500, concurrency: 2, log: () => undefined };
    const servers = [startCollector(opts), startCollector(opts)];
    await sleep(4200);
    await Promise.all(servers.map((s) => s.stop()));
    const { rows } = await store.query<{ target_id: string; n: number; min_gap: number }>(`
      SELECT target_id, count(*)::int AS n, min(gap)::float8 AS min_gap FROM (
        SELECT target_id, extract(epoch FROM taken_at - lag(taken_at) OVER (PARTITION BY target_id ORDER BY taken_at)) AS gap FROM usage_snapshot
      ) s GROUP BY target_id ORDER BY target_id`);
    expect(rows.map((r) => r.target_id)).toEqual(["a", "b"]);
    for (const r of rows) {
      expect(r.n).toBeGreaterThanOrEqual(2);
      expect(r.n).toBeLessThanOrEqual(4);
      expect(r.min_gap).toBeGreaterThan(1.2);
    }
    const statuses = await collectorStatuses(store);
    expect(statuses.get("a")).toMatchObject({ lastOkAt: expect.any(Date), failing: null });
    expect(statuses.get("down")).toMatchObject({
      lastOkAt: null,
      failing: { at: expect.any(Date), error: expect.stringMatching(/ECONNREFUSED/) },
    });
    expect(statuses.get("down")!.failing!.error).not.toContain("pw@");
    await store.end();
  });
});

describe.each(pgServers())("usage rates kept by the collector on $name PostgreSQL", (server) => {
  it("carries each index's rates on with each snapshot's deltas, equal to recomputing them from the buckets", async () => {
    const store = new pg.Pool({ connectionString: await freshDatabase(server) });
    const url = await freshDatabase(server, "empty");
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(
      "CREATE TABLE t (k int); INSERT INTO t SELECT generate_series(1, 1000); CREATE INDEX t_k ON t (k); CREATE INDEX t_k2 ON t (k) WHERE k < 0",
    );
    await c.end();
    const tgt = target("c", url);
    try {
      expect((await collectTarget(store, tgt)).rates).toBe("recomputed"); // the baseline: no deltas yet
      await scan(url, 5);
      expect((await collectTarget(store, tgt)).rates).toBe("recomputed"); // no sums kept yet
      for (const times of [7, 2]) {
        await scan(url, times);
        expect((await collectTarget(store, tgt)).rates).toBe("added");
      }
      const carried = await usageSummary(store, "c");
      await refreshUsageRates(store, "c");
      const recomputed = await usageSummary(store, "c");
      expect([...carried.keys()].sort()).toEqual(["public.t_k", "public.t_k2"]);
      for (const [key, rates] of recomputed) {
        for (const field of ["perMinuteNow", "perMinute24h", "perMinute7d", "perMinute30d"] as const) {
          expect(carried.get(key)![field]).toBeCloseTo(rates[field]!, 9);
        }
      }
      expect(carried.get("public.t_k")!.perMinute24h).toBeGreaterThan(0);
      // A new hour moves the 24-hour window: the sums are summed from the buckets again.
      await store.query("UPDATE usage_rate SET hour_of = hour_of - interval '1 hour' WHERE target_id = 'c'");
      expect((await collectTarget(store, tgt)).rates).toBe("recomputed");
      expect((await collectTarget(store, tgt)).rates).toBe("added");
      // Retention shorter than the 30-day window may delete a bucket inside it: recomputed every time.
      expect((await collectTarget(store, tgt, { rawHours: 48, fiveMinuteDays: 30, hourlyDays: 7 })).rates).toBe("recomputed");
    } finally {
      await store.end();
    }
  });
});

describe.each(pgServers())("a store upgraded to the bucket-first usage order on $name PostgreSQL", (server) => {
  it("keeps the usage written before migration 027 and adds each later snapshot to the same buckets", async () => {
    const store = new pg.Pool({ connectionString: await freshDatabase(server, "empty") });
    const url = await freshDatabase(server, "empty");
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query("CREATE TABLE t (k int); INSERT INTO t SELECT generate_series(1, 1000); CREATE INDEX t_k ON t (k)");
    await c.end();
    const before = await mkdtemp(path.join(tmpdir(), "mig-"));
    for (const name of await readdir(APP_MIGRATIONS_DIR)) {
      if (name < "027") await copyFile(path.join(APP_MIGRATIONS_DIR, name), path.join(before, name));
    }
    const tgt = target("u", url);
    const buckets = async () =>
      (
        await store.query(
          "SELECT resolution, sum(scans)::int AS scans FROM usage_delta WHERE target_id = 'u' AND index_key = 'public.t_k' GROUP BY 1 ORDER BY 1",
        )
      ).rows;
    try {
      const s = await store.connect();
      await migrate(s, before);
      await collectTarget(store, tgt);
      await scan(url, 4);
      await collectTarget(store, tgt);
      const old = await buckets();
      expect(old.find((b) => b.resolution === "raw")?.scans).toBeGreaterThanOrEqual(4);
      expect((await migrate(s)).applied).toContain("027_usage_write_order.sql");
      s.release();
      expect(await buckets()).toEqual(old);
      await scan(url, 3);
      await collectTarget(store, tgt);
      const raw = (await buckets()).find((b) => b.resolution === "raw")!.scans;
      expect(raw).toBeGreaterThanOrEqual(old.find((b) => b.resolution === "raw")!.scans + 3);
      // Every rollup holds what the raw rows hold: nothing lost in the upgrade, nothing counted twice after it.
      expect(await buckets()).toEqual(["1d", "1h", "5m", "raw"].map((resolution) => ({ resolution, scans: raw })));
    } finally {
      await store.end();
    }
  });
});

describe("retention settings", () => {
  it("reads INDEXDECK_RETENTION and rejects a malformed one by name", async () => {
    const { retentionFromEnv, DEFAULT_RETENTION } = await import("./collector");
    expect(retentionFromEnv(undefined)).toEqual(DEFAULT_RETENTION);
    expect(retentionFromEnv("24h,7d,90d")).toEqual({ rawHours: 24, fiveMinuteDays: 7, hourlyDays: 90 });
    expect(() => retentionFromEnv("forever")).toThrow(/INDEXDECK_RETENTION must look like "48h,30d,365d", got forever/);
  });

  it("drops data older than the retention on the next collection", async () => {
    const server = pgServers()[0];
    const store = new pg.Pool({ connectionString: await freshDatabase(server) });
    const url = await freshDatabase(server, "empty");
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query("CREATE TABLE t (k int); CREATE INDEX t_k ON t (k)");
    await c.end();
    await store.query(`INSERT INTO usage_delta (target_id, index_key, resolution, bucket_start, seconds, scans, tuples_read, tuples_fetched, blks_read, blks_hit)
      VALUES ('r', 'public.t_k', 'raw', now() - interval '3 hours', 60, 1, 0, 0, 0, 0), ('r', 'public.t_k', '5m', now() - interval '3 days', 300, 1, 0, 0, 0, 0),
             ('r', 'public.t_k', '1h', now() - interval '20 days', 3600, 1, 0, 0, 0, 0), ('r', 'public.t_k', '1h', now() - interval '2 days', 3600, 1, 0, 0, 0, 0)`);
    await collectTarget(store, target("r", url), { rawHours: 2, fiveMinuteDays: 1, hourlyDays: 10 });
    const { rows } = await store.query(
      "SELECT resolution, count(*)::int AS n FROM usage_delta WHERE target_id = 'r' GROUP BY 1 ORDER BY 1",
    );
    expect(rows).toEqual([{ resolution: "1h", n: 1 }]);
    await store.end();
  });
});

describe("the collector interval", () => {
  it("is 60 s unless set, and never under 1 s", () => {
    expect(collectIntervalFromEnv(undefined)).toBe(60_000);
    expect(collectIntervalFromEnv("10000")).toBe(10_000);
    expect(collectIntervalFromEnv("10")).toBe(60_000);
    expect(collectIntervalFromEnv("soon")).toBe(60_000);
  });
});
