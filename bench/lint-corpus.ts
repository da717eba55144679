import { writeFileSync } from "node:fs";

/**
 * A generated SQL file shaped like a database's regression suite: many statement kinds, quoted and
 * escaped strings, dollar-quoted bodies, comments, index statements, a few psql meta-commands and
 * deliberate errors (unless `broken` is false). It stands in for PostgreSQL's own regression SQL (not on this machine, and
 * not ours to copy) when the linter's memory and speed are measured on a whole file.
 * Deterministic for a given seed, so two measurements see the same bytes.
 */
export function lintCorpus(targetBytes: number, { seed = 1, broken = true }: { seed?: number; broken?: boolean } = {}): string {
  let state = seed >>> 0 || 1;
  const rand = (n: number) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
  const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)];
  const word = () => pick(["alpha", "beta", "gamma", "delta", "orders", "payments", "tenant", "status", "émile", "naïve", "x_1"]);
  const table = () => `${pick(["tab", "rel", "t", "orders", "items"])}_${rand(400)}`;
  const col = () => pick(["id", "a", "b", "org_id", "status", "created_at", "amount", "name", "payload"]);
  const literal = () =>
    pick([
      () => String(rand(100_000)),
      () => `'${word()} ${word()}'`,
      () => `'it''s ${word()}; really'`,
      () => `E'line\\n${word()}\\t\\'quoted\\' \\\\'`,
      () => `$$${word()}; ${word()}$$`,
      () => `'${rand(2020) + 1}-0${1 + rand(9)}-1${rand(9)}'::date`,
      () => `'{"k": [${rand(9)}, ${rand(9)}], "s": "${word()}"}'::jsonb`,
      () => "NULL",
      () => `U&'d\\0061t\\+000061'`,
    ])();
  const text = () =>
    pick([`'${word()} ${word()}'`, `'it''s ${word()}; really'`, `E'line\\n${word()}\\'s'`, `$c$${word()}; ${word()}$c$`, "NULL"]);
  const where = () =>
    `${col()} ${pick(["=", "<", ">=", "<>", "IS NOT DISTINCT FROM"])} ${literal()}${rand(3) ? "" : ` AND ${col()} IS NOT NULL`}`;
  const statements: Array<() => string> = [
    () =>
      `CREATE TABLE ${table()} (id int PRIMARY KEY, org_id int NOT NULL, status text DEFAULT 'new', amount numeric(12,2), created_at timestamptz DEFAULT now(), payload jsonb);`,
    () =>
      `INSERT INTO ${table()} VALUES ${Array.from({ length: 1 + rand(8) }, () => `(${rand(1000)}, ${literal()}, ${literal()})`).join(", ")};`,
    () =>
      `SELECT ${col()}, count(*) AS n\n  FROM ${table()} a\n  JOIN ${table()} b USING (${col()})\n WHERE ${where()}\n GROUP BY 1\n ORDER BY n DESC\n LIMIT ${1 + rand(50)};`,
    () => `SELECT ${literal()} AS v, ${literal()} || ${literal()};`,
    () => `UPDATE ${table()} SET ${col()} = ${literal()} WHERE ${where()};`,
    () => `DELETE FROM ${table()} WHERE ${where()} RETURNING *;`,
    () => `WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < ${rand(100)}) SELECT sum(n) FROM r;`,
    () => `EXPLAIN (COSTS OFF) SELECT * FROM ${table()} WHERE ${where()} ORDER BY ${col()};`,
    () =>
      `CREATE FUNCTION f_${rand(1e6)}(x int) RETURNS int LANGUAGE plpgsql AS $fn$\nBEGIN\n  -- a body with semicolons; and 'quotes'\n  IF x > ${rand(10)} THEN\n    RETURN x * 2;\n  END IF;\n  RAISE NOTICE 'small: %', x;\n  RETURN -x;\nEND\n$fn$;`,
    () => `DO $$ BEGIN PERFORM ${rand(9)}; RAISE NOTICE '${word()}; done'; END $$;`,
    () => `CREATE VIEW v_${rand(1e6)} AS SELECT ${col()}, ${col()} FROM ${table()} WHERE ${where()};`,
    () => `ALTER TABLE ${table()} ADD COLUMN ${word()}_${rand(99)} ${pick(["int", "text", "bool", "numeric"])};`,
    () =>
      `CREATE ${rand(4) ? "" : "UNIQUE "}INDEX ${rand(2) ? "CONCURRENTLY " : ""}${rand(3) ? "IF NOT EXISTS " : ""}idx_${rand(1e6)} ON ${table()} (${col()}${rand(2) ? `, ${col()}` : ""})${rand(3) ? "" : ` WHERE ${where()}`};`,
    () => `CREATE INDEX ON ${table()} USING ${pick(["btree", "hash", "gin", "brin"])} (${col()});`,
    () => `DROP INDEX ${rand(2) ? "CONCURRENTLY " : ""}IF EXISTS idx_${rand(1e6)};`,
    () => `REINDEX ${pick(["INDEX", "TABLE"])} ${rand(2) ? "CONCURRENTLY " : ""}${table()};`,
    () => `COMMENT ON INDEX idx_${rand(1e6)} IS ${text()};`,
    () => `ALTER INDEX idx_${rand(1e6)} RENAME TO idx_${rand(1e6)};`,
    () => `SET ${pick(["lock_timeout", "statement_timeout", "work_mem"])} = '${1 + rand(60)}s';`,
    () => `RESET ${pick(["lock_timeout", "statement_timeout", "search_path"])};`,
    () => pick(["BEGIN;", "COMMIT;", "ROLLBACK;", "SAVEPOINT s1;", "RELEASE SAVEPOINT s1;"]),
    () => `ANALYZE ${table()};`,
    () => `SELECT * FROM ${table()} WHERE ${col()} IN (SELECT ${col()} FROM ${table()} WHERE ${where()});`,
    () => `INSERT INTO ${table()} SELECT g, g % 7, 'row ' || g FROM generate_series(1, ${rand(10_000)}) g;`,
  ];
  const extras: Array<() => string> = [
    () => `-- ${word()} ${word()}: what the next test checks; with a semicolon`,
    () => `/* block comment about ${word()} /* nested ${word()} */ still comment */`,
    () => `\\set VERBOSITY ${pick(["terse", "default"])}`,
    () => `\\d ${table()}`,
    () => `SELECT ${col()} FROM ${table()} \\gset`,
    () => `SELECT 1 +;`,
    () => `CREAT TABLE ${table()} (id int);`,
    () => `SELECT E'\\u061';`,
    () => `COPY ${table()} (id, name) FROM stdin;\n1\tO'Brien\n2\t${word()}; ${word()}\n\\.`,
  ];
  const out: string[] = [];
  let bytes = 0;
  while (bytes < targetBytes) {
    const s = broken && rand(12) === 0 ? pick(extras)() : pick(statements)();
    out.push(s);
    bytes += Buffer.byteLength(s) + 1;
  }
  return `${out.join("\n")}\n`;
}

// `npx tsx bench/lint-corpus.ts OUT.sql [MB] [--clean]` writes a corpus to measure the CLI with, e.g.
// `/usr/bin/time -v node bin/indexdeck.cjs lint OUT.sql` (--clean: no meta-commands or broken SQL).
if (process.argv[1]?.endsWith("lint-corpus.ts")) {
  const [file, mb = "7", clean] = process.argv.slice(2);
  if (!file) throw new Error("usage: npx tsx bench/lint-corpus.ts OUT.sql [MB] [--clean]");
  writeFileSync(file, lintCorpus(Number(mb) * 1024 * 1024, { broken: clean !== "--clean" }));
}
