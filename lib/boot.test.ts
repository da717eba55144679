import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { boot } from "./boot";

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

describe("server start", () => {
  it("refuses a malformed targets file, naming the file, the field and the problem", async () => {
    const file = path.join(await mkdtemp(path.join(tmpdir(), "boot-")), "targets.json");
    await writeFile(file, JSON.stringify({ targets: [{ id: "p", label: "P", environment: "prod", url: "postgres://x@h/db", approvals: { required: 2 } }] }));
    Object.assign(process.env, { INDEXDECK_TARGETS: file, DATABASE_URL: "postgres://x@127.0.0.1:1/x", NEXTAUTH_SECRET: "s" });
    await expect(boot()).rejects.toThrow(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: targets\\.0\\.environment: `));
  });

  it("refuses to start without its settings, saying which", async () => {
    delete process.env.DATABASE_URL;
    await expect(boot()).rejects.toThrow(/DATABASE_URL is not set/);
    Object.assign(process.env, { DATABASE_URL: "postgres://x@127.0.0.1:1/x" });
    delete process.env.NEXTAUTH_SECRET;
    await expect(boot()).rejects.toThrow(/NEXTAUTH_SECRET is not set/);
  });

  it("says so when the store cannot be reached, without the password", async () => {
    const file = path.join(await mkdtemp(path.join(tmpdir(), "boot-")), "targets.json");
    await writeFile(file, JSON.stringify({ targets: [] }));
    Object.assign(process.env, { INDEXDECK_TARGETS: file, DATABASE_URL: "postgres://x:topsecret@127.0.0.1:1/x", NEXTAUTH_SECRET: "s" });
    const err = await boot().catch((e) => e);
    expect(err.message).toMatch(/cannot reach the store named by DATABASE_URL/);
    expect(err.message).not.toContain("topsecret");
  });

  it("refuses to start without the audit key, or with one too short", async () => {
    const file = path.join(await mkdtemp(path.join(tmpdir(), "boot-")), "targets.json");
    await writeFile(file, JSON.stringify({ targets: [] }));
    Object.assign(process.env, { INDEXDECK_TARGETS: file, DATABASE_URL: "postgres://x@127.0.0.1:1/x", NEXTAUTH_SECRET: "x".repeat(40), NEXTAUTH_URL: "http://localhost:3000" });
    delete process.env.INDEXDECK_AUDIT_KEY;
    await expect(boot()).rejects.toThrow(/^INDEXDECK_AUDIT_KEY is not set: audit rows are signed with it/);
    process.env.INDEXDECK_AUDIT_KEY = "short";
    await expect(boot()).rejects.toThrow("INDEXDECK_AUDIT_KEY must be at least 32 characters (it is 5)");
  });
});
