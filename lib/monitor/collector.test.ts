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
import { indexCounters } from "../targets/counters";
import { readNodes } from "../targets/nodes";
import { collectIntervalFromEnv, collectorStatuses, collectTarget, startCollector } from "./collector";
import { refreshUsageRates, usageSeries, usageSummary } from "./usage";
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

describe.each(pgServers())("indexes whose counters did not move on $name PostgreSQL", (server) => {
  it("are not written again, yet have a zero for every snapshot in their raw rows, rollups, chart and rates", async () => {
    const store = new pg.Pool({ connectionString: await freshDatabase(server) });
    const url = await freshDatabase(server, "empty");
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(
      // On a table of its own: planning a query on t reads the metapage of each of its indexes, a block hit.
      "CREATE TABLE t (k int); INSERT INTO t SELECT generate_series(1, 1000); CREATE INDEX t_k ON t (k); CREATE TABLE quiet (k int); CREATE INDEX t_idle ON quiet (k)",
    );
    const tgt = target("z", url);
    const rows = async (sql: string, ...values: unknown[]) => (await store.query(sql, values)).rows;
    try {
      await collectTarget(store, tgt);
      for (const times of [5, 0, 2]) {
        await scan(url, times);
        await collectTarget(store, tgt);
      }
      const snapshots = (await rows("SELECT taken_at FROM usage_snapshot WHERE target_id = 'z' ORDER BY taken_at")).map((r) => r.taken_at);
      expect(snapshots).toHaveLength(4);
      // The idle index's last counters are still the first snapshot's row; the scanned one's the last's.
      const last = await rows("SELECT index_key, taken_at FROM usage_last WHERE target_id = 'z' ORDER BY index_key");
      expect(last).toEqual([
        { index_key: "public.t_idle", taken_at: snapshots[0] },
        { index_key: "public.t_k", taken_at: snapshots[3] },
      ]);
      // Each snapshot's raw row counts from the snapshot before, for the idle index as for the other.
      const raw = async (key: string) =>
        rows(
          "SELECT bucket_start, seconds, scans::int FROM usage_delta WHERE target_id = 'z' AND index_key = $1 AND resolution = 'raw' ORDER BY bucket_start",
          key,
        );
      const active = await raw("public.t_k");
      expect(active.map((r) => [r.bucket_start, r.scans])).toEqual([
        [snapshots[0], 5],
        [snapshots[1], 0],
        [snapshots[2], 2],
      ]);
      expect(await raw("public.t_idle")).toEqual(active.map((r) => ({ ...r, scans: 0 })));
      // The rollups of both cover the same seconds: an idle index's rate is a true zero, over as long.
      const rollups = await rows(
        `SELECT index_key, resolution, sum(seconds)::float8 AS seconds, sum(scans)::int AS scans FROM usage_delta
          WHERE target_id = 'z' AND resolution <> 'raw' GROUP BY 1, 2 ORDER BY 2, 1`,
      );
      const seconds = active.reduce((sum, r) => sum + r.seconds, 0);
      expect(rollups).toEqual(
        ["1d", "1h", "5m"].flatMap((resolution) => [
          { index_key: "public.t_idle", resolution, seconds: expect.closeTo(seconds, 6), scans: 0 },
          { index_key: "public.t_k", resolution, seconds: expect.closeTo(seconds, 6), scans: 7 },
        ]),
      );
      const [idle, scanned] = await Promise.all([
        usageSeries(store, "z", "public.t_idle", "24h"),
        usageSeries(store, "z", "public.t_k", "24h"),
      ]);
      expect(idle.t).toEqual(scanned.t);
      expect(idle.scansPerMinute).toEqual(scanned.t.map(() => 0));
      expect(scanned.scansPerMinute.some((x) => x > 0)).toBe(true);
      expect((await usageSummary(store, "z")).get("public.t_idle")).toMatchObject({ perMinuteNow: 0, perMinute24h: 0, perMinute30d: 0 });
      // An index dropped and made again by the same name counts from its own counters: the old
      // one's last counters left with it, so its first scans are new, not a reset.
      await c.query("DROP INDEX t_k");
      await collectTarget(store, tgt);
      expect(await rows("SELECT index_key FROM usage_last WHERE target_id = 'z'")).toEqual([{ index_key: "public.t_idle" }]);
      await c.query("CREATE INDEX t_k ON t (k)");
      await scan(url, 1);
      await collectTarget(store, tgt);
      expect(
        (
          await rows(
            "SELECT scans::int, reset FROM usage_delta WHERE target_id = 'z' AND index_key = 'public.t_k' AND resolution = 'raw' ORDER BY bucket_start",
          )
        ).at(-1),
      ).toEqual({ scans: 1, reset: false });
    } finally {
      await c.end();
      await store.end();
    }
  });
});

describe.each(pgServers())("a store upgraded to the bucket-first usage order and changed-only writes on $name PostgreSQL", (server) => {
  it("keeps the usage written before migrations 027 and 028 and adds each later snapshot to the same buckets", async () => {
    const store = new pg.Pool({ connectionString: await freshDatabase(server, "empty") });
    const url = await freshDatabase(server, "empty");
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query("CREATE TABLE t (k int); INSERT INTO t SELECT generate_series(1, 1000); CREATE INDEX t_k ON t (k)");
    await c.end();
    await scan(url, 4);
    const before = await mkdtemp(path.join(tmpdir(), "mig-"));
    for (const name of await readdir(APP_MIGRATIONS_DIR)) {
      if (name < "027") await copyFile(path.join(APP_MIGRATIONS_DIR, name), path.join(before, name));
    }
    const tgt = target("u", url);
    const table = async (sql: string) => (await store.query(sql)).rows;
    const buckets = () =>
      table(
        "SELECT resolution, sum(scans)::int AS scans FROM usage_delta WHERE target_id = 'u' AND index_key = 'public.t_k' GROUP BY 1 ORDER BY 1",
      );
    const s = await store.connect();
    try {
      await migrate(s, before);
      // What the collector of that schema wrote (it cannot run on it any more): a first snapshot a
      // minute ago with the index's counters then, its size among them, and the 4 scans before it.
      const [now] = await readNodes(tgt, indexCounters, {});
      const [k] = now.data!.filter((r) => r.indexKey === "public.t_k");
      await s.query(
        `INSERT INTO usage_snapshot (target_id, taken_at, stats_reset, postmaster_start, indexes, query_ms)
         VALUES ('u', now() - interval '2 minutes', $1, $2, 1, 1), ('u', now() - interval '1 minute', $1, $2, 1, 1)`,
        [k.statsReset, k.postmasterStart],
      );
      await s.query(
        `INSERT INTO usage_last (target_id, index_key, taken_at, stats_reset, postmaster_start, scans, tuples_read, tuples_fetched, blks_read, blks_hit, bytes, valid)
         VALUES ('u', 'public.t_k', now() - interval '1 minute', $1, $2, $3, $4, $5, $6, $7, 16384, true)`,
        [k.statsReset, k.postmasterStart, k.scans, k.tuplesRead, k.tuplesFetched, k.blksRead, k.blksHit],
      );
      await s.query(
        `INSERT INTO usage_delta (target_id, index_key, resolution, bucket_start, seconds, scans, tuples_read, tuples_fetched, blks_read, blks_hit)
         SELECT 'u', 'public.t_k', r, date_bin(w, now() - interval '2 minutes', 'epoch'), 60, 4, 0, 4, 0, 0
           FROM (VALUES ('raw', interval '1 microsecond'), ('5m', interval '5 minutes'), ('1h', interval '1 hour'), ('1d', interval '1 day')) AS b(r, w)`,
      );
      const counters =
        "SELECT index_key, taken_at, stats_reset, postmaster_start, scans, tuples_read, tuples_fetched, blks_read, blks_hit, valid FROM usage_last";
      const old = {
        delta: await table("SELECT * FROM usage_delta ORDER BY 1, 2, 3, 4"),
        last: await table(counters),
        snapshots: await table("SELECT * FROM usage_snapshot ORDER BY taken_at"),
      };
      expect(old.delta).toHaveLength(4);
      const { applied } = await migrate(s);
      expect(applied).toEqual(expect.arrayContaining(["027_usage_write_order.sql", "028_usage_changed_only.sql"]));
      expect(await table("SELECT * FROM usage_delta ORDER BY 1, 2, 3, 4")).toEqual(old.delta.map((r) => ({ ...r, node: "primary" })));
      expect(await table(counters)).toEqual(old.last);
      expect(await table("SELECT * FROM usage_snapshot ORDER BY taken_at")).toEqual(old.snapshots.map((r) => ({ ...r, node: "primary" })));
    } finally {
      s.release();
    }
    try {
      // The next snapshots count from the counters kept through the upgrade: 3 scans, not the 4 again.
      await scan(url, 3);
      await collectTarget(store, tgt);
      await collectTarget(store, tgt);
      const raw = await table(
        "SELECT scans::int, reset FROM usage_delta WHERE target_id = 'u' AND index_key = 'public.t_k' AND resolution = 'raw' ORDER BY bucket_start",
      );
      expect(raw).toEqual([
        { scans: 4, reset: false },
        { scans: 3, reset: false },
        { scans: 0, reset: false },
      ]);
      // Every rollup holds what the raw rows hold: nothing lost in the upgrade, nothing counted twice after it.
      expect(await buckets()).toEqual(["1d", "1h", "5m", "raw"].map((resolution) => ({ resolution, scans: 7 })));
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

describe.each(pgServers())("retention from the cutoff applied last on $name PostgreSQL", (server) => {
  it("deletes exactly the rows past each cutoff, collection after collection, as retention shortens and lengthens", async () => {
    const store = new pg.Pool({ connectionString: await freshDatabase(server) });
    const url = await freshDatabase(server, "empty");
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query("CREATE TABLE t (k int); CREATE INDEX t_k ON t (k)");
    await c.end();
    const tgt = target("r", url);
    // A row per resolution per age, its age in its seconds column: raw rows' in hours, the others' in days.
    const ages = { raw: [1, 3, 5, 7, 9], "5m": [0.5, 2, 4, 6], "1h": [2, 8, 12, 20, 30], "1d": [2, 8, 12, 20, 30] };
    for (const [resolution, list] of Object.entries(ages)) {
      await store.query(
        `INSERT INTO usage_delta (target_id, index_key, resolution, bucket_start, seconds, scans, tuples_read, tuples_fetched, blks_read, blks_hit)
         SELECT 'r', 'public.old', $1, now() - a * CASE WHEN $1 = 'raw' THEN interval '1 hour' ELSE interval '1 day' END - interval '1 minute', a, 0, 0, 0, 0, 0
           FROM unnest($2::float8[]) AS a`,
        [resolution, list],
      );
    }
    const left = async () => {
      const { rows } = await store.query<{ resolution: string; ages: number[] }>(
        `SELECT resolution, array_agg(seconds ORDER BY seconds) AS ages FROM usage_delta
          WHERE target_id = 'r' AND index_key = 'public.old' GROUP BY 1 ORDER BY 1`,
      );
      return Object.fromEntries(rows.map((r) => [r.resolution, r.ages]));
    };
    try {
      await collectTarget(store, tgt, { rawHours: 8, fiveMinuteDays: 5, hourlyDays: 25 });
      expect(await left()).toEqual({ raw: [1, 3, 5, 7], "5m": [0.5, 2, 4], "1h": [2, 8, 12, 20], "1d": [2, 8, 12, 20] });
      await collectTarget(store, tgt, { rawHours: 4, fiveMinuteDays: 3, hourlyDays: 10 });
      expect(await left()).toEqual({ raw: [1, 3], "5m": [0.5, 2], "1h": [2, 8], "1d": [2, 8] });
      // Longer again, then shorter than ever: nothing comes back, and the next cutoff still holds.
      await collectTarget(store, tgt, { rawHours: 48, fiveMinuteDays: 30, hourlyDays: 365 });
      expect(await left()).toEqual({ raw: [1, 3], "5m": [0.5, 2], "1h": [2, 8], "1d": [2, 8] });
      await collectTarget(store, tgt, { rawHours: 2, fiveMinuteDays: 1, hourlyDays: 5 });
      expect(await left()).toEqual({ raw: [1], "5m": [0.5], "1h": [2], "1d": [2] });
      // A node collected again after longer than the raw retention: the raw row of its delta begins
      // before the cutoff applied last, and goes; its buckets, kept longer, stay.
      await store.query("UPDATE usage_snapshot SET taken_at = taken_at - interval '3 hours' WHERE target_id = 'r'");
      await collectTarget(store, tgt, { rawHours: 2, fiveMinuteDays: 1, hourlyDays: 5 });
      const { rows: gap } = await store.query(
        `SELECT resolution, count(*)::int AS n FROM usage_delta
          WHERE target_id = 'r' AND index_key = 'public.t_k' AND bucket_start < now() - interval '3 hours' GROUP BY 1 ORDER BY 1`,
      );
      expect(gap).toEqual([
        { resolution: "1d", n: 1 },
        { resolution: "1h", n: 1 },
        { resolution: "5m", n: 1 },
      ]);
      expect(await left()).toEqual({ raw: [1], "5m": [0.5], "1h": [2], "1d": [2] });
    } finally {
      await store.end();
    }
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
