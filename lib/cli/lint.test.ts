import { once } from "node:events";
import { mkdtemp, truncate, writeFile, mkdir } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { lintCorpus } from "../../bench/lint-corpus";
import { reportPieces } from "../changeset/format";
import { lintParts } from "../changeset/lint";
import { PARSE_AHEAD_BYTES, parserReady } from "../changeset/parse";
import { freshDatabase, pgServers } from "../testing/db";
import { batchedOutput } from "./lint";
import { main } from "./main";
import { runBin, runCli } from "./testing";

let dir: string;
const file = (name: string) => path.join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "lint-cli-"));
  await writeFile(
    file("clean.sql"),
    "SET lock_timeout = '2s';\nSET statement_timeout = 0;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS a ON t (x);\n",
  );
  await writeFile(file("bad.sql"), "BEGIN;\nCREATE INDEX a ON t (x);\nCOMMIT;\n");
  await mkdir(path.join(dir, "nested"));
  await writeFile(path.join(dir, "nested", "warn.sql"), "CREATE INDEX CONCURRENTLY IF NOT EXISTS w ON t (x);\n");
});

describe("indexdeck lint", () => {
  it("exits 0 on a clean file and prints the summary", async () => {
    const r = await runCli(["lint", file("clean.sql")]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("1 file(s), 3 statement(s), 1 index(es): a\n0 error(s), 0 warning(s)");
  });

  it("exits 1 on errors, compiler-style with help", async () => {
    const r = await runCli(["lint", file("bad.sql")]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`${file("bad.sql")}:1:1 error transaction-wrapper BEGIN starts or ends a transaction block`);
    expect(r.out).toContain(`${file("bad.sql")}:2:1 error require-concurrent-index-creation index a is built without CONCURRENTLY`);
    expect(r.out).toMatch(/\n {4}help: A plain CREATE INDEX holds a SHARE lock/);
  });

  it("walks directories and emits the JSON contract", async () => {
    const r = await runCli(["lint", dir, "--format", "json"]);
    const json = JSON.parse(r.out);
    expect(json.summary).toEqual({ files: 3, statements: 7, indexes: 3, errors: 3, warnings: 5 });
    expect(Object.keys(json.findings[0]).sort()).toEqual(["column", "file", "line", "message", "rule", "severity"]);
    expect(r.code).toBe(1);
  });

  it("emits GitHub annotations", async () => {
    const r = await runCli(["lint", file("bad.sql"), "--format", "github"]);
    expect(r.out).toMatch(/^::error file=.*bad\.sql,line=1,col=1,title=transaction-wrapper::BEGIN/m);
  });

  it("exits 2 on bad usage and unusable input from the compiled bin, naming the file and the reason as the TypeScript does", async () => {
    await writeFile(file("binary.bin"), Buffer.from([0x43, 0x52, 0x00, 0x01]));
    await writeFile(file("latin1.sql"), Buffer.from("COMMENT ON INDEX i IS 'caf\xe9';", "latin1"));
    // Sparse: over the 64 MB limit by its size, without writing 65 MB.
    await writeFile(file("oversized.sql"), "");
    await truncate(file("oversized.sql"), 65 * 1024 * 1024);
    // A socket can be stat'ed but not read, whoever runs the tests (root reads any mode-000 file).
    const socket = createServer().listen(file("socket.sql"));
    await once(socket, "listening");
    const cases: Array<[string[], string]> = [
      [["lint"], "indexdeck lint: give at least one file"],
      [["lint", file("clean.sql"), "--format", "xml"], "indexdeck lint: --format must be text, json or github, got xml"],
      [["lint", file("missing.sql")], `indexdeck lint: ${file("missing.sql")}: no such file or directory`],
      [["lint", "--bogus"], "indexdeck lint: Unknown option '--bogus'"],
      [["lint", file("binary.bin")], `indexdeck lint: ${file("binary.bin")}: binary data (NUL byte at offset 2)`],
      [["lint", file("latin1.sql")], `indexdeck lint: ${file("latin1.sql")}: not valid UTF-8 (byte offset 26)`],
      [["lint", file("oversized.sql")], `indexdeck lint: ${file("oversized.sql")}: 68157440 bytes is over the 64 MB limit`],
      [["lint", file("socket.sql")], `indexdeck lint: ${file("socket.sql")}: cannot read:`],
    ];
    try {
      for (const [argv, message] of cases) {
        const bin = await runBin(argv);
        expect(bin, argv.join(" ")).toMatchObject({ code: 2, out: "", err: expect.stringContaining(message) });
        expect(bin, argv.join(" ")).toEqual(await runCli(argv));
      }
    } finally {
      socket.close();
    }
  });

  it("treats an empty file as zero statements, not an error", async () => {
    await writeFile(file("empty.sql"), "");
    const r = await runCli(["lint", file("empty.sql")]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("0 statement(s)");
  });

  it("turns hostile SQL into findings, not crashes", async () => {
    await writeFile(file("nested.sql"), `CREATE INDEX CONCURRENTLY n ON t ((${"(".repeat(100_000)}1${")".repeat(100_000)}));\n`);
    await writeFile(file("dollar.sql"), "COMMENT ON INDEX i IS $x$never closed;\n");
    await writeFile(file("psql.sql"), "\\i other.sql\nCREATE INDEX CONCURRENTLY IF NOT EXISTS a ON t (x);\n");
    await writeFile(file("huge-stmt.sql"), `COMMENT ON INDEX i IS '${"x".repeat(1024 * 1024)}';\n`);
    for (const [name, rule] of [
      ["nested.sql", "syntax-error"],
      ["dollar.sql", "syntax-error"],
      ["psql.sql", "psql-meta-command"],
    ]) {
      const r = await runCli(["lint", file(name), "--format", "json"]);
      expect(r.code, name).toBe(1);
      expect(
        JSON.parse(r.out).findings.map((f: { rule: string }) => f.rule),
        name,
      ).toContain(rule);
    }
    expect((await runCli(["lint", file("huge-stmt.sql")])).code).toBe(0);
  });

  it("prints for a long file, in every format, what linting it with every tree kept gives", async () => {
    const text = `${lintCorpus(150_000, { seed: 3 })}\nCREATE INDEX mid ON t (a);\nSELECT 1 +;\n${lintCorpus(150_000, { seed: 4 })}`;
    await writeFile(file("long.sql"), text);
    await parserReady();
    const parts = lintParts({ file: file("long.sql"), text }, { keptTreeBytes: Infinity });
    const findings = [];
    let part = parts.next();
    for (; !part.done; part = parts.next()) findings.push(...part.value);
    const everyTree = { ...part.value, findings };
    expect(findings.map((f) => f.rule)).toContain("syntax-error");
    for (const format of ["json", "text", "github"] as const) {
      const r = await runCli(["lint", file("long.sql"), "--format", format]);
      expect(r.code, format).toBe(1);
      expect(r.out, format).toBe([...reportPieces([everyTree], format)].join(""));
    }
  });

  it("prints for a file long enough to be parsed on two threads what one thread in-process prints", async () => {
    const text = `${lintCorpus(PARSE_AHEAD_BYTES, { seed: 5 })}\nSELECT 1 +;\n${lintCorpus(PARSE_AHEAD_BYTES / 4, { seed: 6 })}`;
    await writeFile(file("longer.sql"), text);
    for (const format of ["text", "github"] as const) {
      const [bin, inProcess] = await Promise.all([
        runBin(["lint", file("longer.sql"), "--format", format]),
        runCli(["lint", file("longer.sql"), "--format", format]),
      ]);
      expect(bin.code, format).toBe(1);
      expect(bin.err, format).toBe("");
      expect(bin.out, format).toBe(inProcess.out);
    }
  }, 60_000);

  it("writes a long report in whole UTF-8 characters, batch by batch, exactly as the report reads", async () => {
    // Four-, three- and two-byte characters in every finding, so batch ends fall inside characters' reach.
    const text = Array.from({ length: 3000 }, (_, i) => `CREATE INDEX "índice_日本_😀_${i}" ON t (a);\n`).join("");
    await writeFile(file("utf8.sql"), text);
    const strict = new TextDecoder("utf-8", { fatal: true });
    const chunks: string[] = [];
    const code = await main(["lint", file("utf8.sql")], {
      out: (t) => void chunks.push(typeof t === "string" ? t : strict.decode(t)),
      err: () => undefined,
      stdin: async () => "",
    });
    expect(code).toBe(1);
    expect(chunks.length).toBeGreaterThan(3);
    const report = chunks.join("");
    expect(report).toBe((await runCli(["lint", file("utf8.sql"), "--format", "text"])).out);
    for (const i of [0, 1499, 2999]) expect(report).toContain(`índice_日本_😀_${i}`);
    // Pieces mostly of three-byte characters: one measured in code units would overrun a batch's end.
    const pieces = Array.from({ length: 400 }, (_, k) => `${"a".repeat(k % 7)}${"日".repeat(500)}😀\n`);
    const raw: Uint8Array[] = [];
    const out = batchedOutput({
      out: (t) => void raw.push(typeof t === "string" ? Buffer.from(t) : t),
      err: () => undefined,
      stdin: async () => "",
    });
    for (const piece of pieces) await out.write(piece);
    out.flush();
    expect(raw.map((r) => strict.decode(r)).join("")).toBe(pieces.join(""));
  });

  it("lints a 10 MB file", async () => {
    const stmt = "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_{i} ON payments (org_id, status, created_at);\n";
    const count = Math.ceil((10 * 1024 * 1024) / stmt.length);
    await writeFile(file("big.sql"), Array.from({ length: count }, (_, i) => stmt.replace("{i}", String(i))).join(""));
    const r = await runCli(["lint", file("big.sql"), "--format", "json"]);
    expect(JSON.parse(r.out).summary.statements).toBe(count);
  });
});

describe.each(pgServers())("indexdeck lint --database-url on $name PostgreSQL", (server) => {
  it("adds the schema rules, read-only", async () => {
    const url = await freshDatabase(server, "empty");
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query("CREATE TABLE payments (org_id int, status text)");
    await writeFile(file("schema.sql"), "CREATE INDEX CONCURRENTLY IF NOT EXISTS p ON payments (org_id, stauts);\n");
    const r = await runCli(["lint", file("schema.sql"), "--database-url", url, "--format", "json"]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).findings.map((f: { rule: string; message: string }) => `${f.rule}: ${f.message}`)).toContain(
      "unknown-column: column stauts does not exist in public.payments",
    );
    const { rows } = await c.query("SELECT count(*)::int AS n FROM pg_indexes WHERE tablename = 'payments'");
    expect(rows[0].n).toBe(0);
    await c.end();
  });

  it("exits 1 with a clear message, and no password, when the database is unreachable", async () => {
    const r = await runCli(["lint", file("clean.sql"), "--database-url", "postgres://u:sekrit-pw@127.0.0.1:1/db"]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/ECONNREFUSED/);
    expect(r.err).not.toContain("sekrit-pw");
  });
});
