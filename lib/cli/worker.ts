import { AuditKeyError, requireAuditKey } from "../audit/key";
import { DELIVERY_KINDS } from "../jobs/queue";
import { startRunner } from "../jobs/runner";
import { runPhaseJob } from "../rollout/run-phase";
import { storePool } from "../store/pool";
import { deliverJob, deliveryOptionsFromEnv } from "../webhooks/deliver";
import { UsageError, type Io } from "./io";
import { governingTargets } from "../targets/source";

/** `indexdeck worker`: a job runner without the web app (the web server runs one too). */
export async function workerCommand(_argv: string[], io: Io): Promise<number> {
  // Every phase writes audit rows: refuse at start rather than fail the first job.
  try {
    requireAuditKey();
  } catch (err) {
    if (err instanceof AuditKeyError) throw new UsageError(err.message);
    throw err;
  }
  const pool = storePool();
  const runner = startRunner({
    pool,
    handle: (job) => runPhaseJob({ pool, targets: governingTargets(pool) }, job),
    log: (l) => io.out(`${l}\n`),
  });
  const delivery = deliveryOptionsFromEnv();
  const deliveries = startRunner({
    pool,
    kinds: DELIVERY_KINDS,
    handle: (job) => deliverJob(pool, job, delivery),
    log: (l) => io.out(`${l}\n`),
  });
  io.out(`worker ${runner.workerId} running; Ctrl-C to stop\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await Promise.all([runner.stop(), deliveries.stop()]);
  return 0;
}
