import pg from "pg";
import { describe, expect, it } from "vitest";
import { freshDatabase, pgServers } from "../testing/db";
import { refreshUsageRates, usageSeries, usageSummary } from "./usage";

describe.each(pgServers())("usage series on $name PostgreSQL", (server) => {
  it("returns aligned columns per bucket, with the reset and gap buckets named", async () => {
    const store = new pg.Pool({ connectionString: await freshDatabase(server) });
    try {
      const hour = 3600;
      const base = Math.floor(Date.now() / 1000 / hour) * hour - 5 * hour;
      await store.query(
        `INSERT INTO usage_delta (target_id, index_key, resolution, bucket_start, seconds, scans, tuples_read, tuples_fetched, blks_read, blks_hit, reset)
         SELECT 's', 'public.i', '1h', to_timestamp($1 + g * 3600), CASE WHEN g = 3 THEN 7200 ELSE 3600 END, g * 60, 0, g * 120, 0, 0, g = 2
           FROM generate_series(0, 4) g`,
        [base],
      );
      const s = await usageSeries(store, "s", "public.i", "7d");
      expect(s.t).toEqual([0, 1, 2, 3, 4].map((g) => base + g * hour));
      expect(s.scansPerMinute).toEqual([0, 1, 2, 1.5, 4]); // g*60 scans per hour; bucket 3 spans two hours
      expect(s.tuplesFetchedPerMinute).toEqual([0, 2, 4, 3, 8]);
      expect(s.resets).toEqual([{ t: base + 2 * hour, node: "primary" }]);
      expect(s.gaps).toEqual([base + 3 * hour]);
      expect(s.nodes).toEqual([{ node: "primary", scansPerMinute: [0, 1, 2, 1.5, 4] }]);
      expect(await usageSeries(store, "s", "public.other", "30d")).toEqual({
        t: [],
        scansPerMinute: [],
        tuplesFetchedPerMinute: [],
        nodes: [],
        resets: [],
        gaps: [],
      });

      // A replica's scans of the same index: each node's rate over its own seconds, added up; resets stay the node's.
      await store.query(
        `INSERT INTO usage_delta (target_id, node, index_key, resolution, bucket_start, seconds, scans, tuples_read, tuples_fetched, blks_read, blks_hit, reset)
         SELECT 's', 'r1', 'public.i', '1h', to_timestamp($1 + g * 3600), 1800, 300, 0, 0, 0, 0, g = 4
           FROM generate_series(3, 4) g`,
        [base],
      );
      const both = await usageSeries(store, "s", "public.i", "7d");
      expect(both.t).toEqual(s.t);
      expect(both.scansPerMinute).toEqual([0, 1, 2, 11.5, 14]);
      expect(both.nodes).toEqual([
        { node: "primary", scansPerMinute: [0, 1, 2, 1.5, 4] },
        { node: "r1", scansPerMinute: [null, null, null, 10, 10] },
      ]);
      expect(both.resets).toEqual([
        { t: base + 2 * hour, node: "primary" },
        { t: base + 4 * hour, node: "r1" },
      ]);
    } finally {
      await store.end();
    }
  });

  it("rates an index over every node: each node's scans over its own seconds, added up", async () => {
    const store = new pg.Pool({ connectionString: await freshDatabase(server) });
    try {
      // Today's daily bucket: the primary saw 600 scans in 3,600 s (10/min), the replica, collected for only
      // 600 s, saw 300 (30/min). Over the pooled seconds that would be 900 in 4,200 s, 12.9/min: the replica's
      // traffic all but lost.
      await store.query(
        `INSERT INTO usage_delta (target_id, node, index_key, resolution, bucket_start, seconds, scans, tuples_read, tuples_fetched, blks_read, blks_hit)
         VALUES ('s', 'primary', 'public.i', '1d', date_trunc('day', now()), 3600, 600, 0, 0, 0, 0),
                ('s', 's_r1', 'public.i', '1d', date_trunc('day', now()), 600, 300, 0, 0, 0, 0),
                ('s', 'primary', 'public.i', 'raw', now() - interval '1 minute', 60, 6, 0, 0, 0, 0),
                ('s', 's_r1', 'public.i', 'raw', now() - interval '2 minutes', 60, 60, 0, 0, 0, 0)`,
      );
      await refreshUsageRates(store, "s");
      expect((await usageSummary(store, "s")).get("public.i")).toMatchObject({ perMinuteNow: 66, perMinute7d: 40, perMinute30d: 40 });
    } finally {
      await store.end();
    }
  });
});

describe.each(pgServers())("usage rates on $name PostgreSQL", (server) => {
  it("computes the latest, 24-hour, 7-day and 30-day scans per minute of each index from its buckets", async () => {
    const store = new pg.Pool({ connectionString: await freshDatabase(server) });
    try {
      // (index, resolution, bucket start relative to now, seconds, scans); 'day' is relative to today's start.
      await store.query(
        `INSERT INTO usage_delta (target_id, index_key, resolution, bucket_start, seconds, scans, tuples_read, tuples_fetched, blks_read, blks_hit)
         SELECT 's', k, r, CASE WHEN r = '1d' THEN date_trunc('day', now()) ELSE now() END + ago::interval, secs, scans, 0, 0, 0, 0
           FROM (VALUES
             ('public.a', 'raw', '-50 minutes', 60, 6), ('public.a', 'raw', '-2 minutes', 60, 3), ('public.a', 'raw', '-90 minutes', 60, 600),
             ('public.a', '1h', '-1 hour', 3600, 120), ('public.a', '1h', '-3 hours', 3600, 240), ('public.a', '1h', '-30 hours', 3600, 9000),
             ('public.a', '1d', '0 days', 7200, 240), ('public.a', '1d', '-5 days', 86400, 1440), ('public.a', '1d', '-20 days', 86400, 14400),
             ('public.a', '1d', '-40 days', 86400, 999999),
             ('public.b', '1d', '-10 days', 86400, 2880),
             ('public.c', 'raw', '-1 minute', 60, 60), ('public.c', '1h', '-1 hour', 3600, 60), ('public.c', 'other', '0 days', 0, 0)
           ) AS v(k, r, ago, secs, scans)
          WHERE r <> 'other'`,
      );
      await refreshUsageRates(store, "s");
      const rates = await usageSummary(store, "s");
      // a: latest raw 3/60 s; 24 h: 360 scans over 7,200 s; 7 d: 1,680 over 93,600 s; 30 d: 16,080 over 180,000 s.
      expect(rates.get("public.a")).toEqual({
        indexKey: "public.a",
        perMinuteNow: 3,
        perMinute24h: 3,
        perMinute7d: (1680 / 93600) * 60,
        perMinute30d: (16080 / 180000) * 60,
      });
      expect(rates.get("public.b")).toEqual({
        indexKey: "public.b",
        perMinuteNow: null,
        perMinute24h: null,
        perMinute7d: null,
        perMinute30d: 2,
      });
      // An index with no daily bucket in 30 days has no row: the collector writes a daily bucket with every delta.
      expect([...rates.keys()].sort()).toEqual(["public.a", "public.b"]);
    } finally {
      await store.end();
    }
  });
});
