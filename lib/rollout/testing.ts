import pg from "pg";
import { createChangeSet } from "../changeset/store";
import { parseTargetsFile, type TargetConfig } from "../targets/config";
import { decideRollout } from "./approvals";
import type { RolloutState } from "./machine";
import { getRollout, rolloutTasks } from "./rollouts";
import type { TargetSource } from "../targets/source";

export const DBA = { id: 1, email: "dba", role: "dba" as const };
export const SRE = { id: 2, email: "sre", role: "sre" as const };

export function testTargets(stagingUrl: string, prodUrl = stagingUrl): TargetConfig[] {
  const common = {
    approvals: { required: 0 },
    // A test's servers are minutes old: an index without scans is unused at once, not after 14 days.
    unusedWindowDays: 0,
    maintenanceWindows: [{ days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], start: "00:00", end: "00:00", timeZone: "UTC" }],
  };
  return parseTargetsFile(
    JSON.stringify({
      targets: [
        { id: "stage", label: "Stage", environment: "staging", url: stagingUrl, ...common },
        {
          id: "prod",
          label: "Prod",
          environment: "production",
          url: prodUrl,
          ...common,
          approvals: { required: 2 },
          stagingTarget: "stage",
        },
      ],
    }),
    "test-targets.json",
  );
}

/** A target database with an `orders` table big enough for a build to show progress. */
export async function seedOrders(url: string, rows = 200_000): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query("CREATE TABLE orders (id bigint, org_id int, status text, created_at timestamptz)");
    await c.query(
      `INSERT INTO orders SELECT g, g % 500, (ARRAY['new','paid','void'])[1 + g % 3], now() - g * interval '1 minute' FROM generate_series(1, $1) g`,
      [rows],
    );
    await c.query("ANALYZE orders");
  } finally {
    await c.end();
  }
}

export const ADMIN = { id: 3, email: "admin", role: "admin" as const };
export const DBA2 = { id: 4, email: "dba2", role: "dba" as const };

/** Two approvals by two people other than the requester whom the target's policy accepts, as production's floor requires. */
export async function approveByTwo(
  pool: pg.Pool,
  targets: TargetSource,
  rollout: { id: number; changesetSha256: string; targetId: string; requestedBy: string },
): Promise<void> {
  const roles = (await targets()).find((t) => t.id === rollout.targetId)!.approvals.roles;
  const approvers = [DBA, SRE, DBA2, ADMIN].filter((a) => a.email !== rollout.requestedBy && roles.includes(a.role)).slice(0, 2);
  for (const a of approvers) {
    await decideRollout(pool, targets, rollout.id, a, {
      decision: "approve",
      comment: "reviewed",
      changesetSha256: rollout.changesetSha256,
      targetId: rollout.targetId,
    });
  }
}

export async function uploadChangeSet(pool: pg.Pool, name: string, sql: string): Promise<string> {
  return (await createChangeSet(pool, { name, sql }, DBA)).changeSet.id;
}

/**
 * Waits until the rollout is in one of `states` with no job of it queued or running. State and jobs are
 * read in one statement, so in one snapshot: read one after the other, a job that finished in between
 * (moving the state on in the same transaction) left the old state looking settled.
 */
export async function waitForState(pool: pg.Pool, id: number, states: RolloutState[], timeoutMs = 30_000): Promise<RolloutState> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const {
      rows: [r],
    } = await pool.query<{ state: RolloutState; open: boolean }>(
      "SELECT state, EXISTS (SELECT 1 FROM job WHERE rollout_id = $1 AND state IN ('queued', 'running')) AS open FROM rollout WHERE id = $1",
      [id],
    );
    if (r && states.includes(r.state) && !r.open) return r.state;
    if (Date.now() > end) {
      const rollout = await getRollout(pool, id);
      const tasks = await rolloutTasks(pool, id);
      throw new Error(
        `rollout ${id} is ${rollout?.state} (error: ${rollout?.error}), wanted ${states.join("|")}; tasks: ${JSON.stringify(tasks.map((t) => [t.seq, t.status, t.error]))}`,
      );
    }
    await new Promise((res) => setTimeout(res, 100));
  }
}

/**
 * Waits for apply and verify to settle; the state with the rollout's error and verify's failed checks,
 * so an expectation that fails says why rather than only where the rollout stopped.
 */
export async function settledVerify(
  pool: pg.Pool,
  id: number,
  timeoutMs?: number,
): Promise<{ state: RolloutState; error: string | null; failed: string[] }> {
  const state = await waitForState(pool, id, ["verified", "verifying", "failed"], timeoutMs);
  const r = await getRollout(pool, id);
  const checks = [...(r?.verify?.indexes ?? []), ...(r?.verify?.plans ?? [])];
  return { state, error: r?.error ?? null, failed: checks.filter((c) => c.status !== "pass").map((c) => `${c.id}: ${c.summary}`) };
}

/** Waits for a pre-check to settle; the state and any failed checks, so a failure names the check. */
export async function settledPrecheck(
  pool: pg.Pool,
  id: number,
): Promise<{ state: RolloutState; error: string | null; failed: Array<{ id: string; summary: string }> }> {
  const state = await waitForState(pool, id, ["approved", "prechecked"]);
  const r = await getRollout(pool, id);
  const checks = r?.precheck?.checks ?? [];
  return {
    state,
    error: r?.error ?? null,
    failed: checks.filter((c) => c.status === "fail").map((c) => ({ id: c.id, summary: c.summary })),
  };
}
