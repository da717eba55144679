import pg from "pg";
import { describe, expect, it } from "vitest";
import { freshDatabase, pgServers } from "../testing/db";
import { usageSeries } from "./usage";

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
      expect(s.resets).toEqual([base + 2 * hour]);
      expect(s.gaps).toEqual([base + 3 * hour]);
      expect(await usageSeries(store, "s", "public.other", "30d")).toEqual({
        t: [],
        scansPerMinute: [],
        tuplesFetchedPerMinute: [],
        resets: [],
        gaps: [],
      });
    } finally {
      await store.end();
    }
  });
});
