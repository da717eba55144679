import { spawnSync } from "node:child_process";
import { chmod, mkdtemp, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { startEmbedded } from "./embedded";

const modeOf = async (file: string) => (await stat(file)).mode & 0o777;

describe("the demo launcher", () => {
  it("recovers from a data directory left by an interrupted first run", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "demo-half-"));
    // What a first run killed during initdb leaves: a state file not marked complete and a partial pgdata.
    await writeFile(path.join(dir, "embedded.json"), JSON.stringify({ port: 1, password: "x", initialized: false }));
    await mkdir(path.join(dir, "pgdata"));
    await writeFile(path.join(dir, "pgdata", "PG_VERSION"), "garbage");
    const lines: string[] = [];
    const server = await startEmbedded(dir, (l) => lines.push(l));
    try {
      expect(lines.join("\n")).toMatch(/left from an interrupted first run; creating it again/);
      const c = new pg.Client({ connectionString: server.url("postgres") });
      await c.connect();
      expect((await c.query("SELECT 1 AS ok")).rows[0].ok).toBe(1);
      await c.end();
      expect(JSON.parse(await readFile(path.join(dir, "embedded.json"), "utf8")).initialized).toBe(true);
    } finally {
      await server.stop();
    }
  }, 60_000);

  it("leaves the exit code of the process that ran it alone (a failing test run must not exit 0)", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "demo-exit-"));
    const script = `const { tsImport } = await import("tsx/esm/api");
      const { startEmbedded } = await tsImport("./lib/demo/embedded.ts", import.meta.url);
      const server = await startEmbedded(${JSON.stringify(dir)});
      await server.stop();
      process.exitCode = 3;`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 60_000 });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(3);
  }, 90_000);

  it("refuses a port already in use with a clear message and exit code 2, instead of hanging", async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, "0.0.0.0", () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = spawnSync(
        process.execPath,
        ["bin/demo.mjs", "--port", String(port), "--data-dir", await mkdtemp(path.join(tmpdir(), "demo-port-"))],
        { encoding: "utf8", timeout: 30_000 },
      );
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`port ${port} is already in use: stop what holds it or run npm run demo -- --port ${port + 1}`);
    } finally {
      blocker.close();
    }
  });

  it("names the PostgreSQL that holds a data directory, rather than failing with nothing to say", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "demo-held-"));
    const server = await startEmbedded(dir);
    try {
      const holder = Number((await readFile(path.join(dir, "pgdata", "postmaster.pid"), "utf8")).split("\n")[0]);
      // A state file left readable by others is tightened even by a start that then fails.
      await chmod(path.join(dir, "embedded.json"), 0o644);
      await expect(startEmbedded(dir)).rejects.toThrow(
        `is in use by another PostgreSQL (pid ${holder}), perhaps a demo that did not stop: stop it (kill ${holder})`,
      );
    } finally {
      await server.stop();
    }
    expect(await modeOf(path.join(dir, "embedded.json"))).toBe(0o600);
  }, 60_000);

  it("keeps embedded.json, which holds the superuser's password, readable by its owner only, and tightens one left readable", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "demo-mode-"));
    const state = path.join(dir, "embedded.json");
    let server = await startEmbedded(dir);
    await server.stop();
    expect(await modeOf(state)).toBe(0o600);
    await chmod(state, 0o644); // as versions before this one wrote it
    server = await startEmbedded(dir);
    await server.stop();
    expect(await modeOf(state)).toBe(0o600);
    expect(JSON.parse(await readFile(state, "utf8")).initialized).toBe(true);
  }, 90_000);

  it("sets up targets that connect as a non-superuser role, in files only their owner may read", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "demo-setup-"));
    const r = spawnSync(process.execPath, ["bin/demo.mjs", "--setup-only", "--rows", "1000", "--staging-rows", "1000", "--data-dir", dir], {
      encoding: "utf8",
      timeout: 180_000,
    });
    expect(r.status, r.stderr).toBe(0);
    for (const file of ["embedded.json", "targets.json", "nextauth-secret"]) expect(await modeOf(path.join(dir, file)), file).toBe(0o600);
    const { targets } = JSON.parse(await readFile(path.join(dir, "targets.json"), "utf8")) as {
      targets: Array<{ id: string; url: string }>;
    };
    expect(targets.map((t) => [t.id, new URL(t.url).username])).toEqual([
      ["chefcloud_staging", "chefcloud_deploy"],
      ["chefcloud_prod", "chefcloud_deploy"],
    ]);
    const server = await startEmbedded(dir);
    try {
      for (const t of targets) {
        const c = new pg.Client({ connectionString: t.url });
        await c.connect();
        try {
          const {
            rows: [me],
          } = await c.query("SELECT current_user AS who, rolsuper FROM pg_roles WHERE rolname = current_user");
          expect(me, t.id).toEqual({ who: "chefcloud_deploy", rolsuper: false });
          const { rows: owners } = await c.query(
            "SELECT DISTINCT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'",
          );
          expect(owners, t.id).toEqual([{ owner: "chefcloud_owner" }]);
        } finally {
          await c.end();
        }
      }
    } finally {
      await server.stop();
    }
  }, 240_000);

  it("stops its PostgreSQL when it fails after starting it", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "demo-fail-"));
    // The window is checked only once the target databases exist, so PostgreSQL is running by then.
    const r = spawnSync(
      process.execPath,
      ["bin/demo.mjs", "--rows", "1000", "--staging-rows", "1000", "--prod-window", "whenever", "--data-dir", dir],
      { encoding: "utf8", timeout: 120_000 },
    );
    expect(r.stderr).toContain('--prod-window must look like "sat,sun 02:00-05:00 UTC", got whenever');
    expect(r.stdout).toContain("embedded PostgreSQL on 127.0.0.1");
    expect(r.status).toBe(2);
    // A clean stop removes the lock file; a server left running keeps it.
    await expect(readFile(path.join(dir, "pgdata", "postmaster.pid"), "utf8")).rejects.toThrow(/ENOENT/);
  }, 150_000);

  it("rejects bad options by name", () => {
    const r = spawnSync(process.execPath, ["bin/demo.mjs", "--rows", "12"], { encoding: "utf8", timeout: 30_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--rows must be an integer ≥ 1000, got 12");
    const w = spawnSync(process.execPath, ["bin/demo.mjs"], {
      encoding: "utf8",
      timeout: 30_000,
      env: { ...process.env, INDEXDECK_WORKERS: "lots" },
    });
    expect(w.status).toBe(2);
    expect(w.stderr).toContain('INDEXDECK_WORKERS must be an integer from 1 to 64, got "lots"');
  });
});
