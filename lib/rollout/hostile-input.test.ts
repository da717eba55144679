import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { parseSync } from "../changeset/pg-parser";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parserReady } from "../changeset/parse";
import { runCli } from "../cli/testing";
import { startRunner } from "../jobs/runner";
import { quoteIdent } from "../sql/quote";
import { freshDatabase, pgServers } from "../testing/db";
import { applyTasks } from "./apply";
import { runPhaseJob } from "./run-phase";
import { MemorySink } from "./memory-sink";
import { requestPhase } from "./machine";
import { createRollout, RolloutError } from "./rollouts";
import { withApplySession } from "./session";
import { DBA, testTargets, uploadChangeSet, waitForState } from "./testing";
import { withClient } from "../store/pool";
import { fixedTargets } from "../targets/source";

const GUARDS = "SET lock_timeout = '2s';\nSET statement_timeout = '30min';\n";

/**
 * Change sets written to make the target run something nobody approved. Each is refused before
 * anything runs, with the line and the rule that refused it. `at` is the line:column refused first.
 */
const HOSTILE: Array<{ name: string; sql: string; at: string; rule: string; databaseDefault?: string }> = [
  {
    name: "the issue's payload",
    sql: `${GUARDS}SET standard_conforming_strings = off;\nCOMMENT ON INDEX orders_pkey IS 'ok\\'\n' ; DROP TABLE orders; --';\n`,
    at: "3:1",
    rule: "setting-not-allowed",
  },
  {
    name: "the same with the database defaulting to standard_conforming_strings = off",
    sql: `${GUARDS}COMMENT ON INDEX orders_pkey IS 'ok\\'\n' ; DROP TABLE orders; --';\n`,
    at: "3:1",
    rule: "backslash-in-string",
    databaseDefault: "standard_conforming_strings = off",
  },
  {
    name: "an E'' string ending early",
    sql: `${GUARDS}COMMENT ON INDEX orders_pkey IS E'x\\\\'; DROP TABLE orders; --';\n`,
    at: "3:41",
    rule: "non-index-statement",
  },
  {
    name: "dollar quotes with nested tags",
    sql: `${GUARDS}COMMENT ON INDEX orders_pkey IS $a$ $b$ $a$; DROP TABLE orders; -- $b$;\n`,
    at: "3:46",
    rule: "non-index-statement",
  },
  {
    name: "a nested comment",
    sql: `${GUARDS}/* outer /* inner */ still comment */ DROP TABLE orders;\n`,
    at: "3:39",
    rule: "non-index-statement",
  },
  {
    name: "a backslash at a line end",
    sql: `${GUARDS}COMMENT ON INDEX orders_pkey IS 'a\\\n'; DROP TABLE orders; --';\n`,
    at: "3:1",
    rule: "backslash-in-string",
  },
  {
    name: "a Unicode escape string",
    sql: `${GUARDS}COMMENT ON INDEX orders_pkey IS U&'!0027' UESCAPE '!'; DROP TABLE orders; --';\n`,
    at: "3:56",
    rule: "non-index-statement",
  },
  {
    name: "a statement after -- with \\r line ends",
    sql: `${GUARDS}-- harmless note\rDROP TABLE orders;\r\nCREATE INDEX CONCURRENTLY o_i ON orders (id);\r\n`,
    at: "3:18",
    rule: "non-index-statement",
  },
  {
    name: "SET ROLE",
    sql: `${GUARDS}SET ROLE postgres;\nCREATE INDEX CONCURRENTLY o_i ON orders (id);\n`,
    at: "3:1",
    rule: "setting-not-allowed",
  },
  {
    name: "SET search_path before an expression index",
    sql: `${GUARDS}SET search_path = evil, pg_catalog;\nCREATE INDEX CONCURRENTLY o_lower ON orders (lower(status));\n`,
    at: "3:1",
    rule: "setting-not-allowed",
  },
  { name: "REINDEX DATABASE CONCURRENTLY", sql: `${GUARDS}REINDEX DATABASE CONCURRENTLY;\n`, at: "3:1", rule: "reindex-scope" },
  {
    name: "DROP INDEX of an index and a constraint's index",
    sql: `${GUARDS}DROP INDEX CONCURRENTLY IF EXISTS orders_status, orders_pkey;\n`,
    at: "3:1",
    rule: "drop-index-shape",
  },
  { name: "COPY … PROGRAM", sql: `${GUARDS}COPY orders TO PROGRAM 'touch /tmp/pwned';\n`, at: "3:1", rule: "non-index-statement" },
  { name: "DO $$ … $$", sql: `${GUARDS}DO $$ BEGIN EXECUTE 'DROP TABLE orders'; END $$;\n`, at: "3:1", rule: "non-index-statement" },
  {
    name: "ATTACH PARTITION of a catalog index",
    sql: `${GUARDS}ALTER INDEX orders_status ATTACH PARTITION pg_catalog.pg_class_oid_index;\n`,
    at: "3:1",
    rule: "system-catalog",
  },
  {
    name: "ALTER TABLE … ATTACH PARTITION beside the partitioned-index recipe",
    sql: `${GUARDS}CREATE INDEX o_p ON ONLY orders (id);\nALTER TABLE orders ATTACH PARTITION canary DEFAULT;\n`,
    at: "4:1",
    rule: "non-index-statement",
  },
  {
    name: "two statements on one line",
    sql: `${GUARDS}CREATE INDEX CONCURRENTLY o_i ON orders (id); SELECT pg_sleep(1);\n`,
    at: "3:47",
    rule: "non-index-statement",
  },
];

/** Everything a refused change set could have touched: relations, their comments, the canary's rows. */
function catalogState(url: string): Promise<string> {
  return withClient(url, async (c) => {
    const { rows } = await c.query(`
      SELECT coalesce(string_agg(relname || '/' || relkind::text || '/' || coalesce(obj_description(oid, 'pg_class'), ''), ',' ORDER BY relname), '') AS s
        FROM pg_class WHERE relnamespace = 'public'::regnamespace`);
    const canary = await c.query("SELECT count(*)::int AS n FROM canary");
    return `${rows[0].s} canary=${canary.rows[0].n}`;
  });
}

async function hostileTarget(url: string, databaseDefault?: string): Promise<void> {
  await withClient(url, async (c) => {
    await c.query(
      "CREATE TABLE orders (id bigint PRIMARY KEY, status text); INSERT INTO orders SELECT g, 'new' FROM generate_series(1, 2000) g",
    );
    await c.query("CREATE INDEX orders_status ON orders (status); CREATE TABLE canary (x int); INSERT INTO canary VALUES (1)");
    if (databaseDefault) await c.query(`ALTER DATABASE ${quoteIdent(new URL(url).pathname.slice(1))} SET ${databaseDefault}`);
  });
}

describe.each(pgServers())("hostile change sets on $name PostgreSQL", (server) => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "hostile-"));
  });

  describe.each(HOSTILE)("$name", ({ sql, at, rule, databaseDefault }) => {
    it("is refused by the CLI's apply naming the file, line and rule, and nothing changes on the target", async () => {
      const url = await freshDatabase(server, "empty");
      await hostileTarget(url, databaseDefault);
      const file = path.join(dir, `evil-${Math.random().toString(36).slice(2)}.sql`);
      await writeFile(file, sql);
      const before = await catalogState(url);
      const r = await runCli(["apply", "--changeset", file, "--database-url", url]);
      expect(r.code).toBe(1);
      expect(r.err).toContain(`${file}:${at}: ${rule}: `);
      expect(await catalogState(url)).toBe(before);
      expect(before).toContain("orders/r/");
    });

    it("is refused as a rollout through the web path, with an audit row, and nothing changes on the target", async () => {
      const storeUrl = await freshDatabase(server);
      const targetUrl = await freshDatabase(server, "empty");
      await hostileTarget(targetUrl, databaseDefault);
      const pool = new pg.Pool({ connectionString: storeUrl });
      try {
        const before = await catalogState(targetUrl);
        const id = await uploadChangeSet(pool, "evil.sql", sql);
        const err = await createRollout(pool, fixedTargets(testTargets(targetUrl)), { changesetId: id, targetId: "stage" }, DBA).catch(
          (e) => e,
        );
        expect(err).toBeInstanceOf(RolloutError);
        expect(err.message).toMatch(new RegExp(`evil\\.sql:\\d+:\\d+: [a-z-]+: `));
        expect(err.message).toContain(rule);
        const { rows } = await pool.query(
          "SELECT actor, details->>'changeset' AS changeset FROM audit_log WHERE action = 'rollout.refused'",
        );
        expect(rows).toEqual([{ actor: "dba", changeset: "evil.sql" }]);
        expect(await catalogState(targetUrl)).toBe(before);
      } finally {
        await pool.end();
      }
    });
  });

  it("fails an apply job whose stored rollout predates the policy (or was tampered with), with an audit row, running nothing", async () => {
    const storeUrl = await freshDatabase(server);
    const targetUrl = await freshDatabase(server, "empty");
    await hostileTarget(targetUrl);
    const pool = new pg.Pool({ connectionString: storeUrl });
    const targets = testTargets(targetUrl);
    const runner = startRunner({
      pool,
      pollMs: 100,
      log: () => undefined,
      handle: (job) => runPhaseJob({ pool, targets: fixedTargets(targets) }, job),
    });
    try {
      const before = await catalogState(targetUrl);
      const evil = HOSTILE[0].sql;
      const csId = await uploadChangeSet(pool, "old.sql", evil);
      const {
        rows: [cs],
      } = await pool.query("SELECT sha256 FROM change_set WHERE id = $1", [Number(csId.slice(3))]);
      const {
        rows: [{ id }],
      } = await pool.query(
        `INSERT INTO rollout (changeset_id, changeset_name, changeset_sha256, changeset_sql, target_id, environment, state, approvals_required, requested_by, precheck)
         VALUES ($1, 'old.sql', $2, $3, 'stage', 'staging', 'prechecked', 0, 'dba', '{"ok": true, "checks": []}') RETURNING id`,
        [csId, cs.sha256, evil],
      );
      await requestPhase(pool, id, "apply", DBA, {}, fixedTargets(targets));
      expect(await waitForState(pool, id, ["failed"])).toBe("failed");
      const {
        rows: [audit],
      } = await pool.query("SELECT details FROM audit_log WHERE action = 'rollout.apply.end' AND rollout_id = $1", [id]);
      expect(audit.details).toMatchObject({ ok: false, error: expect.stringContaining("old.sql:3:1: setting-not-allowed") });
      expect(await catalogState(targetUrl)).toBe(before);
    } finally {
      await runner.stop();
      await pool.end();
    }
  });

  it("runs a statement the plan let through exactly as the parser read it, even where the database reads strings the other way", async () => {
    const url = await freshDatabase(server, "empty");
    await hostileTarget(url, "standard_conforming_strings = off");
    // Below the policy: a task built by hand, as if a plan had missed it. The session's pins decide.
    const statement = "COMMENT ON INDEX orders_pkey IS 'ok\\'\n' ; DROP TABLE orders; --'";
    const result = await applyTasks(
      [
        {
          seq: 0,
          kind: "comment",
          statement,
          line: 1,
          indexName: null,
          schemaName: null,
          tableName: null,
          concurrent: false,
          ifNotExists: false,
        },
      ],
      new MemorySink(),
      { url, applicationName: "indexdeck:test", targetKey: "t" },
    );
    expect(result).toEqual({ ok: true });
    const {
      rows: [r],
    } = await withClient(url, (c) =>
      c.query("SELECT to_regclass('orders') AS orders, obj_description('orders_pkey'::regclass, 'pg_class') AS comment"),
    );
    await parserReady();
    const parsed = (parseSync(statement) as { stmts: Array<{ stmt: { CommentStmt: { comment: string } } }> }).stmts;
    expect(parsed).toHaveLength(1);
    expect(r).toEqual({ orders: "orders", comment: parsed[0].stmt.CommentStmt.comment });
    expect(r.comment).toBe("ok\\ ; DROP TABLE orders; --");
  });

  it("resolves an expression index's functions in pg_catalog first, whatever a writable schema on the path holds", async () => {
    const url = await freshDatabase(server, "empty");
    await hostileTarget(url);
    await withClient(url, (c) =>
      c.query(`
      CREATE SCHEMA evil;
      CREATE FUNCTION evil.lower(text) RETURNS text IMMUTABLE LANGUAGE sql AS $$ SELECT 'hijacked' $$`),
    );
    const statement = "CREATE INDEX CONCURRENTLY o_lower ON orders (lower(status))";
    const result = await applyTasks(
      [
        {
          seq: 0,
          kind: "create_index",
          statement,
          line: 1,
          indexName: "o_lower",
          schemaName: null,
          tableName: "orders",
          concurrent: true,
          ifNotExists: false,
        },
      ],
      new MemorySink(),
      {
        url,
        applicationName: "indexdeck:test",
        targetKey: "t",
        searchPath: ["evil", "public"],
      },
    );
    expect(result).toEqual({ ok: true });
    const {
      rows: [def],
    } = await withClient(url, (c) => c.query("SELECT pg_get_indexdef('o_lower'::regclass) AS d"));
    expect(def.d).toContain("lower(status)");
    expect(def.d).not.toContain("evil.");
  });

  describe("the server splits text as the parser does once the session is pinned", () => {
    // Pieces of SQL text a lexer can disagree about: strings of every kind, comments, separators.
    const literal = fc.oneof(
      fc
        .string({ unit: fc.constantFrom("a", "'", "\\", ";", " ", "-", "/", "*", "$", "\n", "\r", "é") })
        .map((s) => `'${s.replace(/'/g, "''")}'`),
      fc.string({ unit: fc.constantFrom("a", "'", "\\", ";", "\n") }).map((s) => `E'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`),
      fc
        .tuple(fc.constantFrom("", "q", "x1"), fc.string({ unit: fc.constantFrom("a", "'", "\\", ";", "$", "\n") }))
        .filter(([tag, s]) => !s.includes(`$${tag}$`) && !s.endsWith("$"))
        .map(([tag, s]) => `$${tag}$${s}$${tag}$`),
      fc
        .string({ unit: fc.constantFrom("a", ";", "'", "!") })
        .map((s) => `U&'${s.replace(/'/g, "''").replace(/!/g, "!0021")}' UESCAPE '!'`),
    );
    const trivia = fc.constantFrom(" ", "\n", "\r\n", " -- c ; 'x\n", " /* a /* b; */ ' */ ", "\t");
    const statement = fc
      .tuple(fc.array(literal, { minLength: 1, maxLength: 3 }), trivia)
      .map(([lits, t]) => `SELECT ${lits.join(",")}${t}`);
    const changeSet = fc.array(statement, { minLength: 1, maxLength: 4 }).map((s) => s.join(";"));

    let url: string;
    beforeAll(async () => {
      await parserReady();
      url = await freshDatabase(server, "empty");
      await withClient(url, (c) =>
        c.query(`ALTER DATABASE ${quoteIdent(new URL(url).pathname.slice(1))} SET standard_conforming_strings = off`),
      );
    });
    afterAll(() => undefined);

    it("counts the same statements and reads the same values (fast-check)", async () => {
      await withApplySession({ url, applicationName: "indexdeck:prop" }, async (session) => {
        await fc.assert(
          fc.asyncProperty(changeSet, async (text) => {
            const parsed = (parseSync(text) as { stmts: unknown[] }).stmts;
            const served = await session.query(text);
            const results = Array.isArray(served) ? served : [served];
            expect(results.length).toBe(parsed.length);
            const values = JSON.stringify(parsed).match(/"sval":\{"sval":"(?:[^"\\]|\\.)*"\}/g)?.length ?? 0;
            expect(results.reduce((n, r) => n + r.fields.length, 0)).toBe(values);
          }),
          { numRuns: 150 },
        );
      });
    });

    it("and would not without the pins: the same text splits differently where the database reads strings the other way", async () => {
      const text = "SELECT 'ok\\'\n' ; SELECT 2; --'";
      expect((parseSync(text) as { stmts: unknown[] }).stmts).toHaveLength(1);
      const served = await withClient(url, (c) => c.query(text));
      expect(Array.isArray(served) ? served.length : 1).toBe(2);
    });
  });
});
