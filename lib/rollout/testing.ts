import pg from "pg";
import { createChangeSet } from "../changeset/catalog";
import { parseTargetsFile, type TargetConfig } from "../targets/config";
import { getRollout, rolloutTasks, type RolloutState } from "./rollouts";

export const DBA = { id: 1, email: "dba", role: "dba" as const };
export const SRE = { id: 2, email: "sre", role: "sre" as const };

export function testTargets(stagingUrl: string, prodUrl = stagingUrl): TargetConfig[] {
  const common = { approvals: { required: 0 }, maintenanceWindows: [{ days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], start: "00:00", end: "00:00", timeZone: "UTC" }] };
  return parseTargetsFile(JSON.stringify({
    targets: [
      { id: "stage", label: "Stage", environment: "staging", url: stagingUrl, ...common },
      { id: "prod", label: "Prod", environment: "production", url: prodUrl, ...common },
    ],
  }), "test-targets.json");
}

/** A target database with an `orders` table big enough for a build to show progress. */
export async function seedOrders(url: string, rows = 200_000): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query("CREATE TABLE orders (id bigint, org_id int, status text, created_at timestamptz)");
    await c.query(`INSERT INTO orders SELECT g, g % 500, (ARRAY['new','paid','void'])[1 + g % 3], now() - g * interval '1 minute' FROM generate_series(1, $1) g`, [rows]);
    await c.query("ANALYZE orders");
  } finally {
    await c.end();
  }
}

export async function uploadChangeSet(pool: pg.Pool, name: string, sql: string): Promise<string> {
  return (await createChangeSet(pool, { name, sql }, DBA)).changeSet.id;
}

export async function waitForState(pool: pg.Pool, id: number, states: RolloutState[], timeoutMs = 30_000): Promise<RolloutState> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await getRollout(pool, id);
    const { rows: open } = await pool.query("SELECT 1 FROM job WHERE rollout_id = $1 AND state IN ('queued', 'running')", [id]);
    if (r && states.includes(r.state) && open.length === 0) return r.state;
    if (Date.now() > end) {
      const tasks = await rolloutTasks(pool, id);
      throw new Error(`rollout ${id} is ${r?.state} (error: ${r?.error}), wanted ${states.join("|")}; tasks: ${JSON.stringify(tasks.map((t) => [t.seq, t.status, t.error]))}`);
    }
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** Waits for a pre-check to settle; the state and any failed checks, so a failure names the check. */
export async function settledPrecheck(pool: pg.Pool, id: number): Promise<{ state: RolloutState; failed: Array<{ id: string; summary: string }> }> {
  const state = await waitForState(pool, id, ["approved", "prechecked"]);
  const checks = (await getRollout(pool, id))?.precheck?.checks ?? [];
  return { state, failed: checks.filter((c) => c.status === "fail").map((c) => ({ id: c.id, summary: c.summary })) };
}
