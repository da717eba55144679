import { execFileSync, spawnSync } from "node:child_process";
import { mkdtemp, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
// @ts-expect-error: plain JavaScript, without declarations
import { packCli } from "./cli-pack.mjs";

describe("the CLI-only package", () => {
  it("installs alone in an empty directory and lints for GitHub, with no web app beside it", async () => {
    const tarball: string = await packCli(await mkdtemp(path.join(tmpdir(), "cli-pack-")));
    const ci = await mkdtemp(path.join(tmpdir(), "cli-ci-"));
    await writeFile(path.join(ci, "package.json"), '{ "name": "ci", "version": "1.0.0", "private": true }\n');
    // Offline: the package needs nothing from a registry.
    execFileSync("npm", ["install", "--offline", "--no-audit", "--no-fund", tarball], { cwd: ci, stdio: "pipe" });
    const installed = (await readdir(path.join(ci, "node_modules"))).filter((name) => !name.startsWith("."));
    expect(installed).toEqual(["indexdeck-cli"]);

    await writeFile(path.join(ci, "x.sql"), "SET lock_timeout = '2s';\nCREATE INDEX a ON t (x);\nCOMMENT ON INDEX a IS 'ok\\';\n");
    const bin = path.join(ci, "node_modules", ".bin", "indexdeck");
    const lint = spawnSync(bin, ["lint", "--format", "github", "x.sql"], { cwd: ci, encoding: "utf8" });
    expect(lint.stderr).toBe("");
    expect(lint.status).toBe(1);
    expect(lint.stdout).toContain("::error file=x.sql,line=2,col=1,title=require-concurrent-index-creation::");
    expect(lint.stdout).toContain("::error file=x.sql,line=3,col=1,title=backslash-in-string::");

    const unreadable = spawnSync(bin, ["lint", "missing.sql"], { cwd: ci, encoding: "utf8" });
    expect([unreadable.status, unreadable.stderr]).toEqual([2, "indexdeck lint: missing.sql: no such file or directory\n"]);
    const version = spawnSync(bin, ["--version"], { encoding: "utf8" });
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  }, 120_000);
});
