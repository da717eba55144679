/**
 * jobs/ — durable jobs in the store and the runner each server starts: how work outlives the
 * request that asked for it and the server that began it (invariant 3).
 */
import type pg from "pg";
import type { JobPhase } from "../rollout/machine";

/** A webhook delivery (lib/webhooks): no rollout's slot; its rollout, if any, is in its payload. */
export const DELIVERY_KINDS = ["webhook"] as const;
/**
 * A job runs one phase of a rollout (which phases queue a job is declared in lib/rollout/machine.ts;
 * a rollout has at most one of those queued or running), or delivers a webhook.
 */
export type JobKind = JobPhase | (typeof DELIVERY_KINDS)[number];

export interface Job {
  id: number;
  kind: JobKind;
  /** The rollout of a phase; null for a delivery. */
  rolloutId: number | null;
  payload: Record<string, unknown>;
  attempts: number;
  /** True when this job was taken over from a worker whose heartbeat stopped. */
  reclaimed: boolean;
  /** On a takeover: the worker that stopped, and its last heartbeat (the store's clock). */
  lost?: { worker: string | null; lastHeartbeatAt: Date | null };
}

export const JOB_CHANNEL = "indexdeck_job";

const JOB_COLUMNS = `id, kind, rollout_id AS "rolloutId", payload, attempts`;

export class JobConflictError extends Error {}

/** Queues a job in the caller's transaction; a rollout has at most one unfinished job. */
export async function enqueueJob(
  tx: pg.ClientBase,
  kind: JobKind,
  rolloutId: number | null,
  payload: Record<string, unknown> = {},
): Promise<number> {
  try {
    const {
      rows: [row],
    } = await tx.query<{ id: number }>("INSERT INTO job (kind, rollout_id, payload) VALUES ($1, $2, $3) RETURNING id", [
      kind,
      rolloutId,
      payload,
    ]);
    await tx.query("SELECT pg_notify($1, $2)", [JOB_CHANNEL, String(row.id)]);
    return row.id;
  } catch (err) {
    if ((err as { constraint?: string }).constraint === "job_one_open_per_rollout") {
      throw new JobConflictError(`rollout ${rolloutId} already has a phase queued or running; wait for it to finish`);
    }
    throw err;
  }
}

/**
 * Takes the oldest due queued job of these kinds, if any, for this worker. SKIP LOCKED: servers never
 * take the same job.
 */
export async function claimJob(db: Pick<pg.Pool, "query">, workerId: string, kinds: readonly JobKind[]): Promise<Job | null> {
  const { rows } = await db.query<Job>(
    `UPDATE job SET state = 'running', locked_by = $1, heartbeat_at = now(), attempts = attempts + 1
      WHERE id = (
        SELECT id FROM job
         WHERE state = 'queued' AND kind = ANY($2::text[]) AND run_after <= now()
         ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
      RETURNING ${JOB_COLUMNS}, false AS reclaimed`,
    [workerId, kinds],
  );
  return rows[0] ?? null;
}

/** Takes over a running job whose worker stopped heartbeating (crashed, killed, partitioned away). */
export async function reclaimStaleJob(
  db: Pick<pg.Pool, "query">,
  workerId: string,
  staleAfterMs: number,
  kinds: readonly JobKind[],
): Promise<Job | null> {
  const { rows } = await db.query<Job & { lostWorker: string | null; lastHeartbeatAt: Date | null }>(
    `UPDATE job SET locked_by = $1, heartbeat_at = now(), attempts = attempts + 1
       FROM (SELECT id           AS lost_id,
                    locked_by    AS lost_worker,
                    heartbeat_at AS lost_heartbeat_at
               FROM job
              WHERE state = 'running' AND kind = ANY($3::text[]) AND heartbeat_at < now() - make_interval(secs => $2)
              ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1) lost
      WHERE id = lost.lost_id
      RETURNING ${JOB_COLUMNS}, true AS reclaimed, lost.lost_worker AS "lostWorker", lost.lost_heartbeat_at AS "lastHeartbeatAt"`,
    [workerId, staleAfterMs / 1000, kinds],
  );
  if (!rows[0]) return null;
  const { lostWorker, lastHeartbeatAt, ...job } = rows[0];
  return { ...job, lost: { worker: lostWorker, lastHeartbeatAt } };
}

/** Refreshes the lease; false means another worker took the job over and this one must stop. */
export async function heartbeat(db: Pick<pg.Pool, "query">, jobId: number, workerId: string): Promise<boolean> {
  const { rowCount } = await db.query("UPDATE job SET heartbeat_at = now() WHERE id = $1 AND locked_by = $2 AND state = 'running'", [
    jobId,
    workerId,
  ]);
  return rowCount === 1;
}

export async function finishJob(tx: pg.ClientBase, jobId: number, error: string | null): Promise<void> {
  await tx.query("UPDATE job SET state = $2, finished_at = now(), error = $3 WHERE id = $1", [jobId, error ? "failed" : "done", error]);
}

/** Puts a running job back in the queue, to be taken again no sooner than `delayMs` from now. */
export async function retryJobLater(tx: pg.ClientBase, jobId: number, delayMs: number, error: string): Promise<void> {
  await tx.query(
    `UPDATE job SET state = 'queued', locked_by = NULL, heartbeat_at = NULL, run_after = now() + make_interval(secs => $2), error = $3
      WHERE id = $1`,
    [jobId, delayMs / 1000, error],
  );
}
