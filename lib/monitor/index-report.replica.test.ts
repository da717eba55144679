import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../cli/testing";
import { DBA } from "../rollout/testing";
import { parseTargetsFile, type TargetConfig } from "../targets/config";
import { readNodes } from "../targets/nodes";
import { indexInventory } from "../targets/inventory";
import { freshDatabase, pgServers } from "../testing/db";
import { startReplicaPair, type ReplicaPair } from "../testing/replica";
import { collectTarget } from "./collector";
import { draftDropChangeSet } from "./drop-draft";
import { indexReport, type IndexReport, type UsageVerdict } from "./index-report";
import { usageSeries } from "./usage";

const DAY = 86_400_000;

async function run(url: string, sql: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(sql, values);
  } finally {
    await c.end();
  }
}

/** `times` index scans of t_a on a server, flushed to its statistics before returning. */
async function scanA(url: string, times: number): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query("SET enable_seqscan = off; SET enable_bitmapscan = off");
    for (let i = 0; i < times; i++) {
      const { rows } = await c.query("EXPLAIN (FORMAT JSON) SELECT * FROM t WHERE a = $1", [i]);
      expect(JSON.stringify(rows)).toContain(`"Index Name":"t_a"`);
      await c.query("SELECT * FROM t WHERE a = $1", [i]);
    }
    await c.query("SELECT pg_stat_force_next_flush()");
  } finally {
    await c.end();
  }
}

const scansOf = async (url: string, index: string) =>
  Number((await run(url, "SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = $1", [index])).rows[0].idx_scan);

async function report(...args: string[]): Promise<{ code: number; err: string; report: IndexReport }> {
  const r = await runCli(["report", ...args, "--json", "--min-bytes", "0"]);
  return { code: r.code, err: r.err, report: r.code === 0 ? JSON.parse(r.out) : null };
}
const verdict = (r: IndexReport, index: string) => r.usage.find((u) => u.index === index) as UsageVerdict;

describe("an index is unused only if unused on every node (a real streaming replica, system PostgreSQL binaries)", () => {
  let pair: ReplicaPair;
  let other: ReplicaPair;
  let store: pg.Pool;

  beforeAll(async () => {
    [pair, other] = await Promise.all([startReplicaPair(), startReplicaPair()]);
    store = new pg.Pool({ connectionString: await freshDatabase(pgServers()[0]) });
    await run(
      pair.primaryUrl(),
      `CREATE TABLE t (id int, a int, b int);
       INSERT INTO t SELECT g, g, g FROM generate_series(1, 100000) g;  -- distinct keys: each index over 1 MiB
       CREATE INDEX t_a ON t (a);   -- read only on the replica
       CREATE INDEX t_b ON t (b);   -- read nowhere
       ANALYZE t`,
    );
    await pair.caughtUp();
    await scanA(pair.replicaUrl(), 3);
    // The standby's statistics are its own: the primary never saw these scans.
    expect(await scansOf(pair.replicaUrl(), "t_a")).toBe(3);
    expect(await scansOf(pair.primaryUrl(), "t_a")).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await store?.end();
    await Promise.all([pair?.stop(), other?.stop()]);
  });

  it("keeps the index the replica's reads use, with scans and window per node and the verdict in the JSON", async () => {
    // From the primary alone, the replica's index looks unused: what the issue warns of.
    const primaryOnly = await report("--database-url", pair.primaryUrl(), "--window-days", "0");
    expect(primaryOnly.report.unused.map((f) => f.index).sort()).toEqual(["t_a", "t_b"]);

    const both = await report("--database-url", pair.primaryUrl(), "--replica-url", pair.replicaUrl(), "--window-days", "0");
    expect(both.code, both.err).toBe(0);
    expect(both.report.unused.map((f) => f.index)).toEqual(["t_b"]);
    expect(both.report.nodes.map((n) => [n.node, n.role, n.problem])).toEqual([
      ["primary", "primary", null],
      ["replica-1", "replica", null],
    ]);
    const a = verdict(both.report, "t_a");
    expect(a.verdict).toBe("used");
    expect(a.reason).toBe("used: 3 scans on replica-1");
    expect(a.nodes).toEqual([
      { node: "primary", scans: 0, countingSince: expect.any(String), windowDays: expect.any(Number) },
      { node: "replica-1", scans: 3, countingSince: expect.any(String), windowDays: expect.any(Number) },
    ]);
    expect(verdict(both.report, "t_b")).toMatchObject({
      verdict: "unused",
      reason: expect.stringMatching(/^no scans on any node: primary for /),
    });
  });

  it("calls nothing unused before every node has counted for the window (14 days by default), and names each node short of it", async () => {
    const { report: r } = await report("--database-url", pair.primaryUrl(), "--replica-url", pair.replicaUrl());
    expect(r.windowDays).toBe(14);
    expect(r.unused).toEqual([]);
    const b = verdict(r, "t_b");
    expect(b.verdict).toBe("not-enough-evidence");
    expect(b.reason).toMatch(
      /^not enough evidence: primary counts scans only since \S+ \(0\.0 days, fewer than 14\); replica-1 counts scans only since/,
    );
    expect(verdict(r, "t_a").verdict).toBe("used");

    // The same servers read as if 15 days had passed without a reset: now t_b is unused, and t_a still used.
    const nodes = await readNodes({ id: "cli", url: pair.primaryUrl(), replicaUrls: [pair.replicaUrl()] }, indexInventory, {});
    const later = indexReport(nodes, { minBytes: 0, now: new Date(Date.now() + 15 * DAY) });
    expect(later.unused.map((f) => f.index)).toEqual(["t_b"]);
    expect(verdict(later, "t_a").verdict).toBe("used");
    expect(verdict(later, "t_b").nodes.map((n) => Math.floor(n.windowDays!))).toEqual([15, 15]);
  });

  it("refuses a replica URL that reaches a primary, or a replica of another cluster, with the reason", async () => {
    const primaryAsReplica = await runCli(["report", "--database-url", pair.primaryUrl(), "--replica-url", pair.primaryUrl(), "--json"]);
    expect(primaryAsReplica.code).toBe(2);
    expect(primaryAsReplica.out).toBe("");
    expect(primaryAsReplica.err).toMatch(
      /replica replica-1 \(postgres@127\.0\.0\.1:\d+\/postgres\): refused: it is a primary, not a replica \(pg_is_in_recovery\(\) is false\)/,
    );

    const [mine, theirs] = await Promise.all(
      [pair, other].map(async (p) =>
        String((await run(p.primaryUrl(), "SELECT (pg_control_system()).system_identifier::text AS id")).rows[0].id),
      ),
    );
    expect(mine).not.toBe(theirs);
    const foreign = await runCli(["report", "--database-url", pair.primaryUrl(), "--replica-url", other.replicaUrl(), "--json"]);
    expect(foreign.code).toBe(2);
    expect(foreign.err).toContain(`refused: it belongs to another cluster (system identifier ${theirs}; the primary's is ${mine})`);
  });

  it("refuses to draft a DROP of an index used on any node, naming the node and its scans", async () => {
    const target = parseTargetsFile(
      JSON.stringify({
        targets: [
          {
            id: "orders",
            label: "Orders",
            environment: "staging",
            url: pair.primaryUrl(),
            replicas: [{ id: "orders_r1", url: pair.replicaUrl() }],
            unusedWindowDays: 0,
            approvals: { required: 0 },
          },
        ],
      }),
      "t.json",
    )[0];
    const kept = await draftDropChangeSet(store, target, { schema: "public", name: "t_a" }, DBA);
    expect(kept).toMatchObject({ outcome: "kept", verdict: { verdict: "used", reason: "used: 3 scans on orders_r1" } });
    expect((await store.query("SELECT count(*)::int AS n FROM change_set")).rows[0].n).toBe(0);
    expect(await draftDropChangeSet(store, target, { schema: "public", name: "t_b" }, DBA)).toMatchObject({ outcome: "created" });
  });

  it("collects every node: scans and resets per node, totals across them; a replica down is named and the primary still collected", async () => {
    const target: TargetConfig = parseTargetsFile(
      JSON.stringify({
        targets: [
          {
            id: "coll",
            label: "Coll",
            environment: "staging",
            url: pair.primaryUrl(),
            replicas: [{ id: "coll_r1", url: pair.replicaUrl() }],
            approvals: { required: 0 },
          },
        ],
      }),
      "t.json",
    )[0];
    expect((await collectTarget(store, target)).nodeProblems).toEqual([]);
    await scanA(pair.replicaUrl(), 4);
    expect(await collectTarget(store, target)).toMatchObject({ resets: 0, nodeProblems: [] });
    const deltas = async () =>
      (
        await store.query<{ node: string; scans: number; reset: boolean }>(
          `SELECT node, scans::int, reset FROM usage_delta
            WHERE target_id = 'coll' AND index_key = 'public.t_a' AND resolution = 'raw' ORDER BY bucket_start, node`,
        )
      ).rows;
    expect(await deltas()).toEqual([
      { node: "coll_r1", scans: 4, reset: false },
      { node: "primary", scans: 0, reset: false },
    ]);
    const series = await usageSeries(store, "coll", "public.t_a", "24h");
    expect(series.nodes.map((n) => n.node)).toEqual(["primary", "coll_r1"]);

    // A restart of the replica is a reset of its counters only.
    await pair.stopReplica();
    const down = await collectTarget(store, target);
    expect(down.nodeProblems).toEqual([
      { node: "coll_r1", code: "unreachable", message: expect.stringMatching(/^unreachable: .*ECONNREFUSED/) },
    ]);
    await pair.startReplica();
    await scanA(pair.replicaUrl(), 2);
    // A target with replicas recomputes its rates every time: a sum of per-node rates is not one sum of
    // scans over one of seconds that a snapshot's deltas could be added to, so none is kept.
    expect((await collectTarget(store, target)).rates).toBe("recomputed");
    const { rows: kept } = await store.query(
      "SELECT hour_of, scans_30d FROM usage_rate WHERE target_id = 'coll' AND index_key = 'public.t_a'",
    );
    expect(kept).toEqual([{ hour_of: null, scans_30d: null }]);
    // Each node's reset is its own. What the restarted replica counted is left open here: PostgreSQL keeps
    // counters across a clean restart, and deltas.ts counts a new postmaster start as a reset (see the report).
    const after = (await deltas()).slice(2);
    expect(after).toEqual([
      { node: "coll_r1", scans: expect.any(Number), reset: true },
      { node: "primary", scans: 0, reset: false },
      { node: "primary", scans: 0, reset: false },
    ]);
    expect((await usageSeries(store, "coll", "public.t_a", "24h")).resets.map((r) => r.node)).toEqual(["coll_r1"]);
  });

  it("makes every verdict 'not enough evidence' once the replica is stopped, never 'unused'", async () => {
    await pair.stopReplica();
    try {
      const { code, report: r } = await report(
        "--database-url",
        pair.primaryUrl(),
        "--replica-url",
        pair.replicaUrl(),
        "--window-days",
        "0",
      );
      expect(code).toBe(0);
      expect(r.unused).toEqual([]);
      expect(r.nodes[1]).toMatchObject({ node: "replica-1", problem: { code: "unreachable" }, windowDays: null });
      for (const index of ["t_a", "t_b"]) {
        expect(verdict(r, index)).toMatchObject({
          verdict: "not-enough-evidence",
          reason: expect.stringMatching(/^not enough evidence: replica-1 unreachable: .*ECONNREFUSED/),
        });
        expect(verdict(r, index).nodes[1]).toEqual({ node: "replica-1", scans: null, countingSince: null, windowDays: null });
      }
    } finally {
      await pair.startReplica();
    }
  });
});

describe("the evidence window on each node's own clock", () => {
  const clock = (daysAgoStarted: number, daysAgoReset: number | null, now: Date) => ({
    systemIdentifier: "1",
    inRecovery: false,
    postmasterStart: new Date(now.getTime() - daysAgoStarted * DAY),
    statsReset: daysAgoReset === null ? null : new Date(now.getTime() - daysAgoReset * DAY),
  });
  const row = { schema: "public", table: "t", name: "i", method: "btree", columns: ["a"], expressions: null, predicate: null };
  const index = {
    ...row,
    unique: false,
    constraint: null,
    valid: true,
    buildInProgress: false,
    tuplesRead: 0,
    tuplesFetched: 0,
    bytes: 2 ** 21,
    definition: "",
  };
  const node = (id: string, role: "primary" | "replica", c: ReturnType<typeof clock>, scans: number) => ({
    node: { id, role, label: id, url: "postgres://x" },
    clock: c,
    data: [{ ...index, scans }],
    problem: null,
  });
  const now = new Date("2026-11-30T12:00:00Z");

  it("is unused after the window on every node, and not enough evidence with a reset inside it on any one", () => {
    const primary = node("primary", "primary", clock(40, null, now), 0);
    expect(indexReport([primary, node("r1", "replica", clock(30, 20, now), 0)], { now }).usage[0].verdict).toBe("unused");
    const reset = indexReport([primary, node("r1", "replica", clock(30, 3, now), 0)], { now }).usage[0];
    expect(reset.verdict).toBe("not-enough-evidence");
    expect(reset.reason).toBe("not enough evidence: r1 counts scans only since 2026-11-27T12:00:00.000Z (3.0 days, fewer than 14)");
    // A restart counts as a reset: a crash discards counters and leaves no reset time to tell.
    const restarted = indexReport([primary, node("r1", "replica", clock(2, 20, now), 0)], { now }).usage[0];
    expect(restarted.reason).toBe("not enough evidence: r1 counts scans only since 2026-11-28T12:00:00.000Z (2.0 days, fewer than 14)");
    // Scans anywhere decide at once, whatever the window.
    expect(indexReport([primary, node("r1", "replica", clock(2, 1, now), 7)], { now }).usage[0]).toMatchObject({
      verdict: "used",
      reason: "used: 7 scans on r1",
    });
  });
});
