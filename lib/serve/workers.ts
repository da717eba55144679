import cluster from "node:cluster";
import { availableParallelism } from "node:os";
import path from "node:path";
import { PEER_HEADER } from "../auth/client-address";

// Run from the checkout (bin/serve.mjs), never bundled: the preload is a file next to this one.
const PEER_PRELOAD = path.join(process.cwd(), "lib", "serve", "peer-address.mjs");

export class WorkersSettingError extends Error {}

/** INDEXDECK_WORKERS: how many server processes; one per core unless set. */
export function workersFromEnv(env: Record<string, string | undefined> = process.env): number {
  const setting = env.INDEXDECK_WORKERS;
  if (setting === undefined || setting.trim() === "") return availableParallelism();
  const n = Number(setting);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new WorkersSettingError(`INDEXDECK_WORKERS must be an integer from 1 to 64, got ${JSON.stringify(setting)}`);
  return n;
}

/**
 * Runs `workers` copies of the script `exec` as cluster workers, which share any port they listen
 * on. One Next.js server is one JavaScript thread: a single process leaves the other cores idle while
 * requests queue behind each other. Workers are app servers like any other: they share jobs and
 * collection through the store and rollout events through LISTEN/NOTIFY.
 *
 * A worker that dies takes the others down and the primary exits with its code, as the single
 * process did: a boot error (bad settings, unreachable store) would only repeat in a restarted worker,
 * and whoever supervises the server (systemd, the demo launcher) decides about restarts. SIGTERM and
 * SIGINT stop every worker, then the primary.
 */
export function superviseWorkers(opts: { exec: string; args: string[]; workers: number; log?: (line: string) => void }): void {
  const log = opts.log ?? ((line: string) => console.error(`indexdeck: ${line}`));
  // Each worker writes the TCP peer's address into PEER_HEADER, so login limits know who is calling
  // even with no proxy in front (lib/auth/client-address.ts).
  cluster.setupPrimary({ exec: opts.exec, args: opts.args, execArgv: [...process.execArgv, "--import", PEER_PRELOAD] });
  let stopping = false;
  const live = () => Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    process.exitCode = code;
    for (const w of live()) w.process.kill("SIGTERM");
  };
  cluster.on("exit", (worker, code, signal) => {
    if (!stopping) {
      log(`worker ${worker.process.pid} exited (${signal ?? `code ${code}`}); stopping the others`);
      stop(code || 1);
    }
    if (live().length === 0) process.exit();
  });
  process.on("SIGTERM", () => stop(0));
  process.on("SIGINT", () => stop(0));
  for (let i = 0; i < opts.workers; i++) cluster.fork({ INDEXDECK_PEER_HEADER: PEER_HEADER });
}
