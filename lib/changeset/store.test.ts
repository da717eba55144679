import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { freshDatabase, pgServers } from "../testing/db";
import { ChangeSetPage, listChangeSetPage, UploadChangeSet } from "./store";

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

describe.each(pgServers())("the change set list, paged on the server, on $name PostgreSQL", (server) => {
  // The Change sets page reads and lints one page, whatever the number of uploads ever made.
  it("lists repository files first, then uploads newest first, 25 a page, with the total", async () => {
    const pool = new pg.Pool({ connectionString: await freshDatabase(server) });
    const dir = await mkdtemp(path.join(tmpdir(), "changesets-"));
    await writeFile(path.join(dir, "001_b.sql"), "CREATE INDEX CONCURRENTLY IF NOT EXISTS b ON t (x);\n");
    await writeFile(path.join(dir, "000_a.sql"), "CREATE INDEX CONCURRENTLY IF NOT EXISTS a ON t (x);\n");
    await pool.query(`INSERT INTO change_set (name, sha256, sql, created_by)
                      SELECT 'up' || g || '.sql', encode(sha256(convert_to('SELECT ' || g, 'UTF8')), 'hex'), 'SELECT ' || g, 'dba'
                        FROM generate_series(1, 30) g`);
    const first = await listChangeSetPage(pool, 1, dir);
    expect(first).toMatchObject({ page: 1, pages: 2, total: 32, pageSize: 25 });
    expect(first.changeSets.map((c) => c.name)).toEqual([
      "000_a.sql",
      "001_b.sql",
      ...Array.from({ length: 23 }, (_, i) => `up${30 - i}.sql`),
    ]);
    expect(first.changeSets[2]).toMatchObject({ source: "uploaded", sql: "SELECT 30", createdBy: "dba" });
    const second = await listChangeSetPage(pool, 2, dir);
    expect(second.changeSets.map((c) => c.name)).toEqual(Array.from({ length: 7 }, (_, i) => `up${7 - i}.sql`));
    expect((await listChangeSetPage(pool, 3, dir)).changeSets).toEqual([]);
    await rm(dir, { recursive: true });
    await pool.end();
  });
});

describe("the change set list's page number", () => {
  it("refuses a page number that is not a whole number from 1, naming it", async () => {
    expect(ChangeSetPage.safeParse("0").error!.issues[0].message).toBe("page: a whole number from 1 to 100000");
    expect(ChangeSetPage.safeParse("2x").success).toBe(false);
    expect(ChangeSetPage.parse(undefined)).toBe(1);
    expect(ChangeSetPage.parse("3")).toBe(3);
  });
});
