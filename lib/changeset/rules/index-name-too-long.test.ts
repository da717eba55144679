import pg from "pg";
import { describe, expect, it } from "vitest";
import { freshDatabase, pgServers } from "../../testing/db";
import { findings } from "./testing";

const long = "idx_" + "payments_org_id_status_created_at_".repeat(2); // 72 bytes
const accented = "é".repeat(40); // 40 characters, 80 bytes

describe("index-name-too-long", () => {
  it("fires on a created name over 63 bytes, naming its length and the name PostgreSQL keeps", async () => {
    expect(await findings("index-name-too-long", `CREATE INDEX CONCURRENTLY ${long} ON payments (org_id);\n`)).toEqual([
      `1:1 index name ${long} is 72 bytes: PostgreSQL cuts names to 63 bytes, so the index would be named ${long.slice(0, 63)}`,
    ]);
  });

  it("counts UTF-8 bytes, not characters, and cuts between characters as PostgreSQL does", async () => {
    expect(await findings("index-name-too-long", `CREATE INDEX CONCURRENTLY "${accented}" ON payments (org_id);\n`)).toEqual([
      `1:1 index name ${accented} is 80 bytes: PostgreSQL cuts names to 63 bytes, so the index would be named ${"é".repeat(31)}`,
    ]);
  });

  it("fires on a quoted name with blanks in it", async () => {
    const spaced = "payments by organisation and status and the day they were created";
    expect(await findings("index-name-too-long", `CREATE INDEX CONCURRENTLY "${spaced}" ON payments (org_id);\n`)).toEqual([
      `1:1 index name ${spaced} is ${spaced.length} bytes: PostgreSQL cuts names to 63 bytes, so the index would be named ${spaced.slice(0, 63)}`,
    ]);
  });

  it("fires wherever a statement names an index: DROP, REINDEX, COMMENT, ALTER INDEX … RENAME", async () => {
    const sql = [
      `DROP INDEX CONCURRENTLY IF EXISTS public.${long};`,
      `REINDEX INDEX CONCURRENTLY ${long.toUpperCase()};`,
      `COMMENT ON INDEX ${long} IS 'x';`,
      `ALTER INDEX a RENAME TO ${long};`,
    ].join("\n");
    expect((await findings("index-name-too-long", sql)).map((f) => f.split(" ")[0])).toEqual(["1:1", "2:1", "3:1", "4:1"]);
  });

  it("does not fire on names of 63 bytes or less, or on long table and column names", async () => {
    const sql = [
      `CREATE INDEX CONCURRENTLY ${"a".repeat(63)} ON t (x);`,
      `CREATE INDEX CONCURRENTLY "${"é".repeat(31)}x" ON t (x);`,
      `CREATE INDEX CONCURRENTLY short ON ${"t".repeat(70)} (${"c".repeat(70)});`,
      `COMMENT ON INDEX short IS '${"x".repeat(100)}';`,
    ].join("\n");
    expect(await findings("index-name-too-long", sql)).toEqual([]);
  });
});

describe.each(pgServers())("index-name-too-long against $name PostgreSQL", (server) => {
  it("names exactly the index the server creates", async () => {
    const c = new pg.Client({ connectionString: await freshDatabase(server, "empty") });
    await c.connect();
    try {
      await c.query("CREATE TABLE payments (org_id int)");
      for (const name of [long, accented]) {
        const sql = `CREATE INDEX CONCURRENTLY "${name}" ON payments (org_id)`;
        await c.query(sql);
        const [finding] = await findings("index-name-too-long", `${sql};\n`);
        const { rows } = await c.query<{ relname: string }>("SELECT relname FROM pg_class WHERE relkind = 'i' AND relname LIKE $1", [
          `${name.slice(0, 10)}%`,
        ]);
        expect(rows.map((r) => r.relname)).toEqual([finding.split(" so the index would be named ")[1]]);
      }
    } finally {
      await c.end();
    }
  });
});
