import pg from "pg";
import { describe, expect, it } from "vitest";
import { lintText } from "../changeset/lint";
import { runCli } from "../cli/testing";
import { freshDatabase, pgServers } from "../testing/db";

const SCHEMA = `
  CREATE TABLE t (id int PRIMARY KEY, a int, b int, c text, email text);
  INSERT INTO t SELECT g, g % 100, g % 7, md5(g::text), 'u' || g || '@x' FROM generate_series(1, 20000) g;
  CREATE INDEX t_a ON t (a);                         -- redundant: prefix of t_a_b
  CREATE INDEX t_a_b ON t (a, b);
  CREATE INDEX t_a_b_copy ON t (a, b);               -- duplicate of t_a_b (later by name)
  CREATE INDEX t_a_partial ON t (a) WHERE b > 3;     -- different predicate: neither
  CREATE INDEX t_lower_email ON t (lower(email));    -- expression: compared only with equal expressions
  CREATE UNIQUE INDEX t_email_key_idx ON t (email);  -- unique: never "unused"
  ALTER TABLE t ADD CONSTRAINT t_email_uq UNIQUE (email);
  CREATE INDEX t_email_plain ON t (email);           -- duplicate of the constraint's index: this one goes
  CREATE TABLE d (x int); INSERT INTO d VALUES (1), (1);
`;

describe.each(pgServers())("index report on $name PostgreSQL", (server) => {
  it("finds unused, duplicate, redundant and invalid indexes, never offering a constraint's index", async () => {
    const url = await freshDatabase(server, "empty");
    const c = new pg.Client({ connectionString: url });
    c.on("error", () => undefined);
    await c.connect();
    await c.query(SCHEMA);
    await c.query("CREATE UNIQUE INDEX CONCURRENTLY d_x ON d (x)").catch(() => undefined); // leaves an INVALID index
    await c.query("SELECT * FROM t WHERE a = 1 AND b = 2"); // one scan, on something
    // The server is minutes old: with the default window of 14 days no index is unused yet (see reports.replica.test.ts).
    const r = await runCli(["report", "--database-url", url, "--json", "--min-bytes", "0", "--window-days", "0"]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    const names = (list: Array<{ index: string }>) => list.map((f) => f.index).sort();
    expect(names(report.duplicate)).toEqual(["t_a", "t_a_b_copy", "t_email_key_idx", "t_email_plain"]);
    expect(report.duplicate.find((f: { index: string }) => f.index === "t_email_plain").reason).toContain("backs constraint t_email_uq");
    expect(report.duplicate.find((f: { index: string }) => f.index === "t_a").kind).toBe("redundant");
    expect(names(report.invalid)).toEqual(["d_x"]);
    const unused = names(report.unused);
    expect(unused).toContain("t_lower_email");
    expect(unused).not.toContain("t_pkey");
    expect(unused).not.toContain("t_email_uq");
    expect(unused).not.toContain("t_email_key_idx");
    expect(report.invalid[0].dropChangeSet).toMatch(/DROP INDEX CONCURRENTLY IF EXISTS "public"\."d_x";/);
    // The drop drafts are change sets like any other, and they lint clean.
    const lint = await lintText({ file: "drop.sql", text: report.invalid[0].dropChangeSet });
    expect(lint.findings).toEqual([]);
    await c.end();
  });

  it("does not report an index whose concurrent build is still running as invalid", async () => {
    const url = await freshDatabase(server, "empty");
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query("CREATE TABLE big (x int); INSERT INTO big SELECT generate_series(1, 10000)");
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    await holder.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
    await holder.query("SELECT 1");
    const build = c.query("CREATE INDEX CONCURRENTLY big_x ON big (x)");
    for (let i = 0; i < 100; i++) {
      const { rows } = await holder.query("SELECT count(*)::int AS n FROM pg_stat_progress_create_index");
      if (rows[0].n > 0) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    const report = JSON.parse((await runCli(["report", "--database-url", url, "--json"])).out);
    expect(report.invalid).toEqual([]);
    await holder.query("COMMIT");
    await holder.end();
    await build;
    await c.end();
  });
});
