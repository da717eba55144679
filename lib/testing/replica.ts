import { execFile, execFileSync } from "node:child_process";
import { chown, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePort } from "../demo/ports";

const run = promisify(execFile);

/** A primary and its streaming replica, both real PostgreSQL servers of the system's binaries. */
export interface ReplicaPair {
  /** URL of a database on the primary (superuser, trust). */
  primaryUrl(database?: string): string;
  /** URL of the same database on the replica. */
  replicaUrl(database?: string): string;
  /** Returns once the replica has replayed everything the primary had written when called. */
  caughtUp(): Promise<void>;
  /** Stops the replica (fast shutdown); its port is then refused. */
  stopReplica(): Promise<void>;
  startReplica(): Promise<void>;
  /** Stops both servers and removes their data. */
  stop(): Promise<void>;
}

/** The system PostgreSQL's binaries (`pg_config --bindir`), as the issue names them. */
function binDir(): string {
  return execFileSync("pg_config", ["--bindir"], { encoding: "utf8" }).trim();
}

// initdb and postgres refuse to run as root: as root they run as the system's postgres user.
function asPostgres(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }));
  return { uid: id("-u"), gid: id("-g") };
}

/**
 * Settings for start-up speed over durability: these clusters live for one test file. The socket sits
 * in the data's own directory, so nothing outside the temporary directory is touched.
 */
const FAST = [
  "fsync=off",
  "synchronous_commit=off",
  "full_page_writes=off",
  "shared_buffers=16MB",
  "max_connections=30",
  "wal_level=replica",
];

/**
 * initdb's a primary and pg_basebackup -R's a streaming replica of it into a temporary directory,
 * each on a free port of 127.0.0.1, with the system PostgreSQL's binaries; never the system cluster.
 * About a second on this machine: no fsync, a tiny cluster, a fast checkpoint for the base backup.
 */
export async function startReplicaPair(): Promise<ReplicaPair> {
  const bin = binDir();
  const user = asPostgres();
  const dir = await mkdtemp(path.join(os.tmpdir(), "indexdeck-replica-"));
  if (user) await chown(dir, user.uid, user.gid);
  const tool = (name: string, args: string[]) =>
    run(path.join(bin, name), args, { ...user, cwd: dir, env: { ...process.env, LC_ALL: "C" } });
  const primaryDir = path.join(dir, "primary");
  const replicaDir = path.join(dir, "replica");
  const [primaryPort, replicaPort] = [await freePort(), await freePort()];
  const pgCtl = (data: string, port: number, action: "start" | "stop") =>
    action === "start"
      ? tool("pg_ctl", [
          "start",
          "-w",
          "-D",
          data,
          "-l",
          `${data}.log`,
          "-o",
          [`-p ${port}`, "-c listen_addresses=127.0.0.1", `-c unix_socket_directories=${dir}`, ...FAST.map((s) => `-c ${s}`)].join(" "),
        ])
      : tool("pg_ctl", ["stop", "-w", "-m", "fast", "-D", data]);

  const stopAll = async () => {
    await pgCtl(replicaDir, replicaPort, "stop").catch(() => undefined);
    await pgCtl(primaryDir, primaryPort, "stop").catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await tool("initdb", ["-D", primaryDir, "-U", "postgres", "-A", "trust", "--no-sync", "--no-instructions", "-E", "UTF8"]);
    // initdb's pg_hba.conf lets local connections replicate; say so anyway, so the helper does not rest on a default.
    await writeFile(
      path.join(primaryDir, "pg_hba.conf"),
      "local all all trust\nhost all all 127.0.0.1/32 trust\nlocal replication all trust\nhost replication all 127.0.0.1/32 trust\n",
    );
    await pgCtl(primaryDir, primaryPort, "start");
    await tool("pg_basebackup", [
      "-h",
      "127.0.0.1",
      "-p",
      String(primaryPort),
      "-U",
      "postgres",
      "-D",
      replicaDir,
      "-R",
      "-X",
      "stream",
      "-c",
      "fast",
      "--no-sync",
    ]);
    await pgCtl(replicaDir, replicaPort, "start");
  } catch (err) {
    await stopAll();
    throw err;
  }
  const url =
    (port: number) =>
    (database = "postgres") =>
      `postgres://postgres@127.0.0.1:${port}/${database}`;
  const pair: ReplicaPair = {
    primaryUrl: url(primaryPort),
    replicaUrl: url(replicaPort),
    async caughtUp() {
      // The end of a record written now: the insert position alone may point past a page header the standby never "replays".
      const lsn = await oneValue(pair.primaryUrl(), "SELECT pg_logical_emit_message(false, 'indexdeck-test', 'caught up?')::text");
      for (let i = 0; i < 500; i++) {
        const behind = await oneValue(pair.replicaUrl(), "SELECT pg_last_wal_replay_lsn() < $1::pg_lsn", [lsn]);
        if (!behind) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`the replica on port ${replicaPort} did not replay up to ${lsn} within 10 s`);
    },
    stopReplica: async () => void (await pgCtl(replicaDir, replicaPort, "stop")),
    startReplica: async () => void (await pgCtl(replicaDir, replicaPort, "start")),
    stop: stopAll,
  };
  return pair;
}

async function oneValue(url: string, sql: string, values: unknown[] = []): Promise<unknown> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query({ text: sql, values, rowMode: "array" });
    return rows[0][0];
  } finally {
    await c.end();
  }
}
