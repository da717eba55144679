import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { freshDatabase, pgServers } from "../testing/db";
import { migrate, MigrationError } from "./migrator";

describe.each(pgServers())("migrator on $name PostgreSQL", (server) => {
  async function withDb<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
    const c = new pg.Client({ connectionString: await freshDatabase(server, "empty") });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  }

  it("applies files in order once, then has nothing to do", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "mig-"));
    await writeFile(path.join(dir, "001_a.sql"), "CREATE TABLE a (x int);");
    await writeFile(path.join(dir, "002_b.sql"), "INSERT INTO a VALUES (1);");
    await withDb(async (c) => {
      expect((await migrate(c, dir)).applied).toEqual(["001_a.sql", "002_b.sql"]);
      expect((await migrate(c, dir)).applied).toEqual([]);
      expect((await c.query("SELECT count(*)::int AS n FROM a")).rows[0].n).toBe(1);
    });
  });

  it("refuses to run when an applied file was edited, naming the file", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "mig-"));
    await writeFile(path.join(dir, "001_a.sql"), "CREATE TABLE a (x int);");
    await withDb(async (c) => {
      await migrate(c, dir);
      await writeFile(path.join(dir, "001_a.sql"), "CREATE TABLE a (x bigint);");
      await expect(migrate(c, dir)).rejects.toThrow(/001_a\.sql was edited after it was applied/);
    });
  });

  it("rolls back a failing file entirely and reports it", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "mig-"));
    await writeFile(path.join(dir, "001_bad.sql"), "CREATE TABLE ok (x int); SELECT * FROM missing;");
    await withDb(async (c) => {
      await expect(migrate(c, dir)).rejects.toThrow(MigrationError);
      expect((await c.query("SELECT to_regclass('ok') AS t")).rows[0].t).toBeNull();
    });
  });

  it("applies the real store schema", async () => {
    await withDb(async (c) => {
      const { applied } = await migrate(c);
      expect(applied[0]).toBe("001_users_and_audit.sql");
    });
  });
});
