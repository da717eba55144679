import { startRunner, type Runner } from "./jobs/runner";
import { handleJob } from "./rollout/handlers";
import { EventHub } from "./rollout/stream";
import { requireStoreUrl, storePool } from "./store/pool";

interface ServerState {
  runner?: Runner;
  hub?: EventHub;
}

// Module instances can be duplicated by the bundler across route chunks; the process is one.
const state: ServerState = ((globalThis as { __indexdeck?: ServerState }).__indexdeck ??= {});

/** The job runner of this app server, started once per process at boot. */
export function startJobRunner(): Runner {
  const pool = storePool();
  state.runner ??= startRunner({ pool, handle: (job) => handleJob({ pool }, job) });
  return state.runner;
}

/** The process's event hub: one LISTEN connection for every stream this server serves. */
export function eventHub(): EventHub {
  state.hub ??= new EventHub(storePool(), requireStoreUrl());
  return state.hub;
}
