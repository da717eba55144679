import { DELIVERY_KINDS } from "../jobs/queue";
import { startRunner, type Runner } from "../jobs/runner";
import { collectIntervalFromEnv, retentionFromEnv, startCollector } from "../monitor/collector";
import { runPhaseJob } from "../rollout/run-phase";
import { EventHub } from "../rollout/stream";
import { requireStoreUrl, storePool } from "../store/pool";
import { deliverJob, deliveryOptionsFromEnv } from "../webhooks/deliver";
import { fileTargets, governingTargets } from "../targets/source";

interface ServerState {
  runner?: Runner;
  deliveries?: Runner;
  collector?: { stop(): Promise<void> };
  hub?: EventHub;
}

// Module instances can be duplicated by the bundler across route chunks; the process is one.
const state: ServerState = ((globalThis as { __indexdeck?: ServerState }).__indexdeck ??= {});

/** The job runner of this app server, started once per process at boot. */
export function startJobRunner(): Runner {
  const pool = storePool();
  const poll = Number(process.env.INDEXDECK_POLL_MS ?? 500);
  // The progress poller reads the target at most every 500 ms, and never faster than every 100 ms.
  const pollIntervalMs = Number.isFinite(poll) ? Math.min(500, Math.max(100, poll)) : 500;
  const samples = Number(process.env.INDEXDECK_PROBE_SAMPLES ?? 200);
  const probe = { samples: Number.isInteger(samples) && samples > 0 ? Math.min(samples, 10_000) : 200 };
  state.runner ??= startRunner({
    pool,
    handle: (job) => runPhaseJob({ pool, targets: governingTargets(pool), apply: { pollIntervalMs }, probe }, job),
  });
  return state.runner;
}

/** The webhook deliveries of this app server: a runner of their own, so a slow receiver takes no phase's slot. */
export function startDeliveryRunner(): Runner {
  const pool = storePool();
  const opts = deliveryOptionsFromEnv();
  state.deliveries ??= startRunner({ pool, kinds: DELIVERY_KINDS, handle: (job) => deliverJob(pool, job, opts) });
  return state.deliveries;
}

/** The usage collector of this app server; servers share the work through the store. */
export function startUsageCollector(): void {
  state.collector ??= startCollector({
    pool: storePool(),
    // What is collected is the file's to say; policies govern rollouts, not collection.
    targets: fileTargets(),
    retention: retentionFromEnv(),
    intervalMs: collectIntervalFromEnv(),
  });
}

/** The process's event hub: one LISTEN connection for every stream this server serves. */
export function eventHub(): EventHub {
  state.hub ??= new EventHub(storePool(), requireStoreUrl());
  return state.hub;
}
