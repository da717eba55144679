import { randomBytes } from "node:crypto";
import os from "node:os";
import type pg from "pg";
import { JOB_PHASES } from "../rollout/machine";
import { claimJob, heartbeat, JOB_CHANNEL, reclaimStaleJob, type Job, type JobKind } from "./queue";

export interface RunnerOptions {
  pool: pg.Pool;
  handle: (job: Job) => Promise<void>;
  /** The kinds this runner takes: the phases by default; deliveries have a runner of their own, so a slow receiver holds no phase up. */
  kinds?: readonly JobKind[];
  /** Jobs run at once by this server; each apply holds two target connections. */
  concurrency?: number;
  pollMs?: number;
  heartbeatMs?: number;
  staleAfterMs?: number;
  log?: (line: string) => void;
}

export interface Runner {
  workerId: string;
  stop(): Promise<void>;
  /** Resolves when no job is running on this runner (for tests and shutdown). */
  idle(): Promise<void>;
}

/**
 * The job runner each app server (or `indexdeck worker`) starts. It takes queued jobs, keeps their
 * lease alive with a heartbeat, and takes over jobs whose worker died, which is how a rollout
 * survives a server restart. A NOTIFY on enqueue wakes it at once; polling is the fallback.
 */
export function startRunner(opts: RunnerOptions): Runner {
  const workerId = `${os.hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  const log = opts.log ?? ((l: string) => console.log(`[jobs] ${l}`));
  const concurrency = opts.concurrency ?? 4;
  const staleAfterMs = opts.staleAfterMs ?? 15_000;
  const kinds = opts.kinds ?? JOB_PHASES;
  const running = new Set<Promise<void>>();
  let stopped = false;
  let wake: () => void = () => undefined;
  let listener: pg.PoolClient | null = null;

  const run = (job: Job) => {
    const beat = setInterval(() => {
      heartbeat(opts.pool, job.id, workerId).catch((err) => log(`heartbeat of job ${job.id} failed: ${err.message}`));
    }, opts.heartbeatMs ?? 2000);
    const p = opts
      .handle(job)
      .catch((err) => log(`job ${job.id} (${job.kind}) crashed: ${(err as Error).stack ?? err}`))
      .finally(() => {
        clearInterval(beat);
        running.delete(p);
        wake();
      });
    running.add(p);
  };

  const loop = (async () => {
    try {
      listener = await opts.pool.connect();
      listener.on("notification", () => wake());
      // A store restart or failover ends this connection: fall back to polling rather than crash the server.
      listener.on("error", (err) => {
        log(`LISTEN connection lost (${err.message}); polling every ${opts.pollMs ?? 1000} ms`);
        listener?.release(err);
        listener = null;
      });
      await listener.query(`LISTEN ${JOB_CHANNEL}`);
    } catch (err) {
      log(`LISTEN failed, polling only: ${(err as Error).message}`);
    }
    while (!stopped) {
      try {
        while (running.size < concurrency) {
          const job = (await reclaimStaleJob(opts.pool, workerId, staleAfterMs, kinds)) ?? (await claimJob(opts.pool, workerId, kinds));
          if (!job) break;
          log(
            `${job.reclaimed ? "reclaimed" : "took"} job ${job.id}: ${job.kind}${job.rolloutId === null ? "" : ` of rollout ${job.rolloutId}`}`,
          );
          run(job);
        }
      } catch (err) {
        log(`cannot reach the store: ${(err as Error).message}`);
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, opts.pollMs ?? 1000);
      });
    }
  })();

  return {
    workerId,
    async stop() {
      stopped = true;
      wake();
      await loop;
      await Promise.all(running);
      if (listener) {
        listener.release();
        listener = null;
      }
    },
    async idle() {
      while (running.size) await Promise.all(running);
    },
  };
}
