import { describe, expect, it } from "vitest";
import { UploadChangeSet } from "./catalog";

describe("change set uploads", () => {
  it("refuse a file over 1 MiB, naming the limit", () => {
    const r = UploadChangeSet.safeParse({ name: "big.sql", sql: "x".repeat(1024 * 1024 + 1) });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0].message).toBe("sql: over the 1024 KiB upload limit");
  });
  it("refuse empty SQL, NUL bytes and unsafe names", () => {
    expect(UploadChangeSet.safeParse({ name: "a.sql", sql: "" }).error!.issues[0].message).toMatch(/empty/);
    expect(UploadChangeSet.safeParse({ name: "a.sql", sql: "SELECT 1;\0" }).error!.issues[0].message).toMatch(/NUL/);
    expect(UploadChangeSet.safeParse({ name: "../etc/passwd", sql: "SELECT 1;" }).success).toBe(false);
  });
});
