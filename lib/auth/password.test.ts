import { describe, expect, it } from "vitest";
import { hashPassword, needsRehash, verifyPassword } from "./password";

describe("stored password hashes", () => {
  it("verifies a hash it made, and refuses a wrong password", async () => {
    const stored = await hashPassword("correct horse battery");
    expect(await verifyPassword("correct horse battery", stored)).toBe(true);
    expect(await verifyPassword("wrong horse battery", stored)).toBe(false);
    expect(needsRehash(stored)).toBe(false);
  });

  // A row of app_user written by someone else: the store's role may be hostile.
  it.each([
    ["more work than the 128 MiB setting (hours of a crypto thread)", "scrypt$16384$8$245000"],
    ["N above 2^17", "scrypt$262144$8$1"],
    ["N not a power of two", "scrypt$16383$8$5"],
    ["r above 8", "scrypt$16384$1024$1"],
    ["not numbers", "scrypt$x$8$5"],
  ])("answers no at once for a hash with %s, without running scrypt", async (_, params) => {
    const stored = `${params}$${Buffer.alloc(16).toString("base64")}$${Buffer.alloc(32).toString("base64")}`;
    const started = performance.now();
    expect(await verifyPassword("anything at all", stored)).toBe(false);
    expect(performance.now() - started).toBeLessThan(500);
    expect(needsRehash(stored)).toBe(true);
  });

  it("never matches a hash whose key is empty or short", async () => {
    for (const key of ["", "AAAA", Buffer.alloc(8).toString("base64")])
      expect(await verifyPassword("", `scrypt$16384$8$5$${Buffer.alloc(16).toString("base64")}$${key}`)).toBe(false);
  });
});
