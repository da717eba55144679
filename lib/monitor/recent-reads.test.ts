import pg from "pg";
import { describe, expect, it } from "vitest";
import { parseTargetsFile } from "../targets/config";
import { freshDatabase, pgServers } from "../testing/db";
import { recentReport, recentUsageRates } from "./recent-reads";

const target = (id: string, url: string) =>
  parseTargetsFile(JSON.stringify({ targets: [{ id, label: id, environment: "staging", url, approvals: { required: 0 } }] }), "t.json")[0];

describe.each(pgServers())("the Indexes page's report cache on $name PostgreSQL", (server) => {
  it("reads the catalog once per interval for any number of viewers, and refreshes behind them after it", async () => {
    const url = await freshDatabase(server, "empty");
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query("CREATE TABLE t (a int); CREATE INDEX t_a ON t (a)");
      const t = target(`cache_${server.name}`, url);
      const [first, second] = [recentReport(t, 60_000), recentReport(t, 60_000)];
      expect(second).toBe(first); // concurrent views share one read
      expect((await first).indexes.map((i) => i.name)).toEqual(["t_a"]);
      await c.query("CREATE INDEX t_a2 ON t (a)");
      expect((await recentReport(t, 60_000)).indexes.map((i) => i.name)).toEqual(["t_a"]);
      // Past its age the old report is still served at once, while a fresh read runs behind it.
      const stale = recentReport(t, 0);
      expect(stale).toBe(first);
      let names: string[] = [];
      for (let i = 0; i < 100 && names.length < 2; i++) {
        await new Promise((r) => setTimeout(r, 100));
        names = (await recentReport(t, 60_000)).indexes.map((x) => x.name).sort();
      }
      expect(names).toEqual(["t_a", "t_a2"]);
    } finally {
      await c.end();
    }
  });

  it("does not keep a failed read", async () => {
    const t = target(`down_${server.name}`, "postgres://nobody@127.0.0.1:1/none");
    const first = recentReport(t, 60_000);
    await expect(first).rejects.toThrow();
    const second = recentReport(t, 60_000);
    expect(second).not.toBe(first);
    await expect(second).rejects.toThrow();
  });

  it("reads the usage rates once per interval per store, and the collector's next rates after it", async () => {
    const store = new pg.Pool({ connectionString: await freshDatabase(server, "store") });
    try {
      const rate = (n: number) =>
        store.query(
          `INSERT INTO usage_rate (target_id, index_key, per_min_now, per_min_24h, per_min_7d, per_min_30d, computed_at)
         VALUES ('t', 'public.i', $1, $1, $1, $1, now())
         ON CONFLICT (target_id, index_key) DO UPDATE SET per_min_now = $1`,
          [n],
        );
      await rate(1);
      const first = recentUsageRates(store, "t", 60_000);
      expect(recentUsageRates(store, "t", 60_000)).toBe(first);
      expect((await first).get("public.i")?.perMinuteNow).toBe(1);
      await rate(2);
      expect((await recentUsageRates(store, "t", 60_000)).get("public.i")?.perMinuteNow).toBe(1);
      expect(recentUsageRates(store, "t", 0)).toBe(first); // served at once while the refresh runs
      let now: number | null | undefined = 1;
      for (let i = 0; i < 100 && now === 1; i++) {
        await new Promise((r) => setTimeout(r, 50));
        now = (await recentUsageRates(store, "t", 60_000)).get("public.i")?.perMinuteNow;
      }
      expect(now).toBe(2);
    } finally {
      await store.end();
    }
  });
});
