import { spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import net from "node:net";
import { availableParallelism } from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import { workersFromEnv, WorkersSettingError } from "./workers";

const SUPERVISE = new URL("./fixtures/supervise.mjs", import.meta.url).pathname;

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// A new connection per request (no keep-alive), so the primary hands each one to a worker afresh.
function get(port: number, path = "/", headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path, agent: false, headers }, (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve(body));
      })
      .on("error", reject);
  });
}

let primary: ChildProcess | null = null;
afterEach(() => {
  primary?.kill("SIGKILL");
  primary = null;
});

async function start(workers: number) {
  const port = await freePort();
  const child = spawn(process.execPath, [SUPERVISE, String(port), String(workers)], { stdio: ["ignore", "pipe", "pipe"] });
  primary = child;
  let listening = 0;
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => {
      listening += d.toString().split("listening").length - 1;
      if (listening === workers) resolve();
    });
    child.once("exit", (code) => reject(new Error(`exited with ${code}: ${stderr}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { port, child, exited, stderr: () => stderr };
}

describe("server workers", () => {
  it("runs the asked number of workers, all answering on one port", async () => {
    const { port } = await start(3);
    const pids = new Set<string>();
    for (let i = 0; i < 30 && pids.size < 3; i++) pids.add(await get(port));
    expect(pids.size).toBe(3);
  });

  it("stops every worker and exits with the code of a worker that died", async () => {
    const { port, exited, stderr } = await start(2);
    await get(port, "/exit");
    expect(await exited).toBe(7);
    expect(stderr()).toMatch(/worker \d+ exited \(code 7\); stopping the others/);
    await expect(get(port)).rejects.toThrow(/ECONNREFUSED/);
  });

  it("stops every worker on SIGTERM and exits 0", async () => {
    const { port, child, exited } = await start(2);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    await expect(get(port)).rejects.toThrow(/ECONNREFUSED/);
  });

  it("gives every worker the TCP peer's address in the peer header, over whatever the client sent under that name", async () => {
    const { port } = await start(2);
    for (let i = 0; i < 4; i++) {
      expect(await get(port, "/peer", { "x-indexdeck-peer": "198.51.100.7", "x-forwarded-for": "203.0.113.9" })).toBe(
        "x-indexdeck-peer=127.0.0.1",
      );
    }
  });

  it("takes INDEXDECK_WORKERS, one per core by default, and refuses anything but 1-64", () => {
    expect(workersFromEnv({})).toBe(availableParallelism());
    expect(workersFromEnv({ INDEXDECK_WORKERS: "3" })).toBe(3);
    for (const bad of ["0", "two", "1.5", "65"]) {
      expect(() => workersFromEnv({ INDEXDECK_WORKERS: bad })).toThrow(WorkersSettingError);
    }
    expect(() => workersFromEnv({ INDEXDECK_WORKERS: "0" })).toThrow('INDEXDECK_WORKERS must be an integer from 1 to 64, got "0"');
  });
});
