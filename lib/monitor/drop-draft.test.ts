import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getChangeSet } from "../changeset/store";
import { lintText } from "../changeset/lint";
import { droppedIndexes } from "../changeset/nodes";
import { parseChangeSet, parserReady } from "../changeset/parse";
import { runCli } from "../cli/testing";
import { DBA, testTargets } from "../rollout/testing";
import { quoteIdent, quoteQualified } from "../sql/quote";
import { freshDatabase, pgServers } from "../testing/db";
import { checkDropDraft, draftDropChangeSet, DraftRefusedError, draftName } from "./drop-draft";
import { reportForTarget, type IndexFinding } from "./index-report";

// Names a catalog can hold that break SQL or `--` comments built by hand.
const SCHEMA = 's\'ch\\ema "q" -- */\nx';
const NAMES = [
  'dq"uote',
  "sq'uote",
  "back\\slash",
  "end*/x",
  "/*open",
  "da--sh",
  "l\nf",
  "c\rr",
  "cr\r\nlf",
  "\\' ; DROP TABLE canary; --",
  "índice_ü_日本",
  "x\n;DROP TABLE canary;--",
];
// A column name lands in the reasons of duplicate findings, which the old draft put in its comment.
const COLUMN = "c\rDROP TABLE canary; --";
const INVALID = "inv\r\n-- */\"'";

/** What dropChangeSet wrote before: the finding's reason in a `--` comment, with only LF replaced. */
function oldDropChangeSet(schema: string, name: string, why: string): string {
  return `-- ${why.replace(/\n/g, " ")}\nSET lock_timeout = '2s';\nSET statement_timeout = 0;\nDROP INDEX CONCURRENTLY IF EXISTS ${quoteIdent(schema)}.${quoteIdent(name)};\n`;
}

beforeAll(() => parserReady());

describe.each(pgServers())("DROP drafts for hostile catalog names on $name PostgreSQL", (server) => {
  let url: string;
  let pool: pg.Pool;

  beforeAll(async () => {
    url = await freshDatabase(server, "empty");
    pool = new pg.Pool({ connectionString: await freshDatabase(server) });
    pool.on("error", () => undefined);
    const c = new pg.Client({ connectionString: url });
    c.on("error", () => undefined);
    await c.connect();
    await c.query(`CREATE TABLE canary (x int); CREATE SCHEMA ${quoteIdent(SCHEMA)}`);
    for (const schema of ["public", SCHEMA]) {
      const t = quoteQualified(schema, "t");
      await c.query(`CREATE TABLE ${t} (id int PRIMARY KEY, b int, ${quoteIdent(COLUMN)} int)`);
      await c.query(`INSERT INTO ${t} SELECT g, g % 10, g % 3 FROM generate_series(1, 2000) g`);
      for (const name of NAMES) await c.query(`CREATE INDEX ${quoteIdent(name)} ON ${t} (b)`);
      await c.query(`CREATE INDEX ${quoteIdent(`${COLUMN} 1`)} ON ${t} (${quoteIdent(COLUMN)})`);
      await c.query(`CREATE INDEX ${quoteIdent(`${COLUMN} 2`)} ON ${t} (${quoteIdent(COLUMN)})`);
    }
    // Left INVALID by a failed unique build (b repeats).
    await c.query(`CREATE UNIQUE INDEX CONCURRENTLY ${quoteIdent(INVALID)} ON t (b)`).catch(() => undefined);
    // Schema "a.b" with table "c" and schema "a" with table "b.c": two tables, not one, so no duplicates.
    await c.query(`CREATE SCHEMA "a.b"; CREATE SCHEMA a; CREATE TABLE "a.b".c (k int); CREATE TABLE a."b.c" (k int)`);
    await c.query(`CREATE INDEX k1 ON "a.b".c (k); CREATE INDEX k2 ON a."b.c" (k)`);
    await c.end();
  });
  afterAll(() => pool.end());

  it("drafts, for every finding, SQL that parses to exactly one DropStmt of exactly that index and lints clean", async () => {
    const [target] = testTargets(url);
    const report = await reportForTarget(target, { minBytes: 0 });
    const findings: IndexFinding[] = [...report.unused, ...report.duplicate, ...report.invalid];
    const found = (schema: string) => new Set(findings.filter((f) => f.schema === schema).map((f) => f.index));
    // Every hostile index is a finding (unused, and all but one a duplicate), in both schemas, and the invalid one.
    for (const schema of ["public", SCHEMA])
      for (const name of [...NAMES, `${COLUMN} 1`, `${COLUMN} 2`]) expect(found(schema), `${schema}.${name}`).toContain(name);
    expect(report.invalid.map((f) => f.index)).toEqual([INVALID]);
    expect(report.duplicate.filter((f) => f.schema === SCHEMA)).toHaveLength(report.duplicate.filter((f) => f.schema === "public").length);
    expect(report.duplicate.map((f) => f.index)).not.toContain("k1");
    expect(report.duplicate.some((f) => f.reason.includes(COLUMN))).toBe(true);

    for (const f of findings) {
      const parsed = parseChangeSet("draft.sql", f.dropChangeSet);
      expect(parsed.syntaxErrors, f.index).toEqual([]);
      expect(
        parsed.statements.map((s) => s.kind),
        f.index,
      ).toEqual(["VariableSetStmt", "VariableSetStmt", "DropStmt"]);
      expect(droppedIndexes(parsed.statements[2]), f.index).toEqual({
        names: [{ schema: f.schema, name: f.index }],
        concurrent: true,
        ifExists: true,
        cascade: false,
      });
      const lint = await lintText({ file: "draft.sql", text: f.dropChangeSet });
      expect(
        lint.findings.filter((x) => x.severity === "error"),
        f.index,
      ).toEqual([]);
      await checkDropDraft("draft.sql", f.dropChangeSet, { schema: f.schema, name: f.index }, "production");
    }
  });

  it("stores each draft under a name the store accepts, and applying it drops that index and nothing else", async () => {
    const [target] = testTargets(url);
    const dir = await mkdtemp(path.join(tmpdir(), "drop-draft-"));
    const indexes = async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        const { rows } = await c.query<{ schema: string; name: string }>(
          "SELECT schemaname AS schema, indexname AS name FROM pg_indexes WHERE schemaname NOT IN ('pg_catalog') ORDER BY 1, 2",
        );
        return rows.map((r) => JSON.stringify([r.schema, r.name]));
      } finally {
        await c.end();
      }
    };
    const before = await indexes();
    for (const index of [
      { schema: SCHEMA, name: "x\n;DROP TABLE canary;--" },
      { schema: "public", name: "cr\r\nlf" },
      { schema: "public", name: INVALID },
      { schema: SCHEMA, name: `${COLUMN} 2` },
    ]) {
      const r = await draftDropChangeSet(pool, target, index, DBA);
      expect(r.outcome, JSON.stringify(index)).toBe("created");
      const stored = await getChangeSet(pool, (r as { changeSet: { id: string } }).changeSet.id);
      expect(stored!.name).toBe(draftName(index, new Date()));
      expect(stored!.name).toMatch(/^drop_[A-Za-z0-9_]+_[0-9a-f]{8}_\d{8}\.sql$/);
      // The same finding drafted again is the same change set.
      expect((await draftDropChangeSet(pool, target, index, DBA)).outcome).toBe("exists");
      const file = path.join(dir, stored!.name);
      await writeFile(file, stored!.sql);
      const apply = await runCli(["apply", "--changeset", file, "--database-url", url, "--json"]);
      expect(apply.code, apply.err).toBe(0);
      const now = await indexes();
      expect(now, JSON.stringify(index)).toEqual(before.filter((k) => k !== JSON.stringify([index.schema, index.name])));
      before.splice(0, before.length, ...now);
    }
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    expect((await c.query("SELECT to_regclass('canary') IS NOT NULL AS ok")).rows[0].ok).toBe(true);
    await c.end();
    expect(await draftDropChangeSet(pool, target, { schema: "public", name: "no such index" }, DBA)).toEqual({ outcome: "no-finding" });
    // The schema counts: the public index of this name is not the one asked for.
    expect(await draftDropChangeSet(pool, target, { schema: "a", name: "k1" }, DBA)).toEqual({ outcome: "no-finding" });
  });

  it("refuses, and stores nothing, when the draft's SQL re-parses as anything but that one drop", async () => {
    const [target] = testTargets(url);
    const {
      rows: [{ n: before }],
    } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM change_set");
    // The old builder: a CR in the duplicate's reason ended its comment, and the rest ran as SQL.
    const old = (schema: string, name: string) => oldDropChangeSet(schema, name, `duplicate: same columns (${COLUMN}) as ${COLUMN} 1`);
    await expect(draftDropChangeSet(pool, target, { schema: "public", name: `${COLUMN} 2` }, DBA, old)).rejects.toThrow(DraftRefusedError);
    await expect(draftDropChangeSet(pool, target, { schema: "public", name: `${COLUMN} 2` }, DBA, old)).rejects.toThrow(
      /refused to store the draft to drop "public"\."c\rDROP TABLE canary; -- 2": it does not plan \(/,
    );
    const {
      rows: [{ n: after }],
    } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM change_set");
    expect(after).toBe(before);
  });
});

describe("checkDropDraft", () => {
  const want = { schema: "public", name: "t_a" };
  const SETS = "SET lock_timeout = '2s';\nSET statement_timeout = 0;\n";
  const refused = (sql: string) => checkDropDraft("d.sql", sql, want, "production");

  it("passes the one drop it was made for", async () => {
    await expect(refused(`${SETS}DROP INDEX CONCURRENTLY IF EXISTS "public"."t_a";\n`)).resolves.toBeUndefined();
  });

  it.each([
    [
      "a second drop",
      `${SETS}DROP INDEX CONCURRENTLY IF EXISTS "public"."t_a";\nDROP INDEX CONCURRENTLY IF EXISTS public.t_b;\n`,
      "it re-parses as 2 DROP statements, not 1",
    ],
    [
      "two indexes in one drop",
      `${SETS}DROP INDEX CONCURRENTLY IF EXISTS "public"."t_a", public.t_b;\n`,
      "drop-index-shape: DROP INDEX of 2 indexes in one statement",
    ],
    ["another index", `${SETS}DROP INDEX CONCURRENTLY IF EXISTS "public"."t_ab";\n`, 'line 3 drops "public"."t_ab" instead'],
    ["another schema", `${SETS}DROP INDEX CONCURRENTLY IF EXISTS "app"."t_a";\n`, 'line 3 drops "app"."t_a" instead'],
    ["no schema", `${SETS}DROP INDEX CONCURRENTLY IF EXISTS t_a;\n`, 'line 3 drops "t_a" instead'],
    ["no IF EXISTS", `${SETS}DROP INDEX CONCURRENTLY "public"."t_a";\n`, "must be DROP INDEX CONCURRENTLY IF EXISTS"],
    ["a table", `${SETS}DROP TABLE IF EXISTS "public"."t_a";\n`, "does not plan"],
    [
      "something else beside it",
      `${SETS}ANALYZE t;\nDROP INDEX CONCURRENTLY IF EXISTS "public"."t_a";\n`,
      "line 3 is a VacuumStmt; a drop draft holds only SETs and the drop",
    ],
    ["CASCADE", `${SETS}DROP INDEX CONCURRENTLY IF EXISTS "public"."t_a" CASCADE;\n`, /CASCADE/],
    ["broken SQL", `${SETS}DROP INDEX CONCURRENTLY IF EXISTS "public"."t_a`, "does not plan"],
  ])("refuses %s", async (_what, sql, message) => {
    await expect(refused(sql)).rejects.toThrow(DraftRefusedError);
    await expect(refused(sql)).rejects.toThrow(`d.sql: refused to store the draft to drop "public"."t_a": `);
    await expect(refused(sql)).rejects.toThrow(message);
  });
});
