import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { boot } from "./boot";

const saved = { ...process.env };
const SECRET = "0123456789abcdef0123456789abcdef"; // 32 bytes, the least accepted
afterEach(() => {
  process.env = { ...saved };
});

describe("server start", () => {
  it("refuses a malformed targets file, naming the file, the field and the problem", async () => {
    const file = path.join(await mkdtemp(path.join(tmpdir(), "boot-")), "targets.json");
    await writeFile(
      file,
      JSON.stringify({ targets: [{ id: "p", label: "P", environment: "prod", url: "postgres://x@h/db", approvals: { required: 2 } }] }),
    );
    Object.assign(process.env, {
      INDEXDECK_TARGETS: file,
      DATABASE_URL: "postgres://x@127.0.0.1:1/x",
      NEXTAUTH_SECRET: SECRET,
      NEXTAUTH_URL: "http://localhost:3000",
    });
    await expect(boot()).rejects.toThrow(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: targets\\.0\\.environment: `));
  });

  it("refuses to start without its settings, saying which", async () => {
    delete process.env.DATABASE_URL;
    await expect(boot()).rejects.toThrow(/DATABASE_URL is not set/);
    Object.assign(process.env, { DATABASE_URL: "postgres://x@127.0.0.1:1/x" });
    delete process.env.NEXTAUTH_SECRET;
    await expect(boot()).rejects.toThrow(/NEXTAUTH_SECRET is not set/);
  });

  it("refuses a session secret shorter than 32 bytes, and a missing or malformed NEXTAUTH_URL", async () => {
    Object.assign(process.env, {
      DATABASE_URL: "postgres://x@127.0.0.1:1/x",
      NEXTAUTH_SECRET: SECRET.slice(1),
      NEXTAUTH_URL: "http://localhost:3000",
    });
    await expect(boot()).rejects.toThrow("NEXTAUTH_SECRET is 31 bytes long: it must be at least 32 (e.g. openssl rand -base64 32)");
    process.env.NEXTAUTH_SECRET = SECRET;
    delete process.env.NEXTAUTH_URL;
    await expect(boot()).rejects.toThrow(/^NEXTAUTH_URL is not set: /);
    process.env.NEXTAUTH_URL = "localhost:3000";
    await expect(boot()).rejects.toThrow("NEXTAUTH_URL is not an http:// or https:// URL: localhost:3000");
  });

  it("says so when the store cannot be reached, without the password", async () => {
    const file = path.join(await mkdtemp(path.join(tmpdir(), "boot-")), "targets.json");
    await writeFile(file, JSON.stringify({ targets: [] }));
    Object.assign(process.env, {
      INDEXDECK_TARGETS: file,
      DATABASE_URL: "postgres://x:topsecret@127.0.0.1:1/x",
      NEXTAUTH_SECRET: SECRET,
      NEXTAUTH_URL: "http://localhost:3000",
    });
    const err = await boot().catch((e) => e);
    expect(err.message).toMatch(/cannot reach the store named by DATABASE_URL/);
    expect(err.message).not.toContain("topsecret");
    process.env.DATABASE_URL = "postgres://x@127.0.0.1:1/x?password=topsecret2&sslpassword=topsecret3";
    const again = await boot().catch((e) => e);
    expect(again.message).toMatch(/cannot reach the store named by DATABASE_URL/);
    expect(again.message).not.toMatch(/topsecret/);
  });

  it("refuses a malformed session lifetime or proxy count at start, naming the setting", async () => {
    const file = path.join(await mkdtemp(path.join(tmpdir(), "boot-")), "targets.json");
    await writeFile(file, JSON.stringify({ targets: [] }));
    Object.assign(process.env, {
      INDEXDECK_TARGETS: file,
      DATABASE_URL: "postgres://x@127.0.0.1:1/x",
      NEXTAUTH_SECRET: "x".repeat(40),
      NEXTAUTH_URL: "http://localhost:3000",
      INDEXDECK_SESSION_HOURS: "12h",
    });
    await expect(boot()).rejects.toThrow(/INDEXDECK_SESSION_HOURS must be a number of hours/);
    Object.assign(process.env, { INDEXDECK_SESSION_HOURS: "12", INDEXDECK_TRUSTED_PROXIES: "-1" });
    await expect(boot()).rejects.toThrow(/INDEXDECK_TRUSTED_PROXIES must be a whole number/);
  });

  it("refuses to start without the audit key, or with one too short", async () => {
    const file = path.join(await mkdtemp(path.join(tmpdir(), "boot-")), "targets.json");
    await writeFile(file, JSON.stringify({ targets: [] }));
    Object.assign(process.env, {
      INDEXDECK_TARGETS: file,
      DATABASE_URL: "postgres://x@127.0.0.1:1/x",
      NEXTAUTH_SECRET: "x".repeat(40),
      NEXTAUTH_URL: "http://localhost:3000",
    });
    delete process.env.INDEXDECK_AUDIT_KEY;
    await expect(boot()).rejects.toThrow(/^INDEXDECK_AUDIT_KEY is not set: audit rows are signed with it/);
    process.env.INDEXDECK_AUDIT_KEY = "short";
    await expect(boot()).rejects.toThrow("INDEXDECK_AUDIT_KEY must be at least 32 characters (it is 5)");
  });
});
