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
