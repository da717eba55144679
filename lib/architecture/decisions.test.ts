import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

// Behaviour is decided by codes, states and parse trees, never by reading a sentence back: rewording a
// message must not open a gate or change advice. This reads lib/ for the ways text gets matched and
// fails on any not listed below. Each entry parses input from outside indexdeck (a header, a file, a
// setting, PostgreSQL's or a library's own text) and says which; an entry that no longer matches fails too.

const LIB = path.join(import.meta.dirname, "..");
const MATCHING = /\.(test|exec)\(|\.match(All)?\(|new RegExp\(|\.(startsWith|endsWith)\(|\.search\(/;

const ALLOWED: Record<string, string> = {
  // An Authorization header: the token's own prefix.
  "auth/tokens.ts: secret.startsWith(TOKEN_PREFIX)": "header",
  // X-Forwarded-For entries: an IPv4-mapped IPv6 address.
  'auth/client-address.ts: entry.startsWith("::ffff:")': "header",
  // node-pg ends a lost connection with an Error that has no code, only this text.
  "rollout/apply.ts: /Connection terminated|connection closed/i.test(message)": "library",
  // pg_stat_progress_create_index.phase: PostgreSQL's names of a build's phases.
  'rollout/apply.ts: progress.phase.startsWith("waiting")': "postgres",
  "rollout/build-phases.ts: phase.startsWith(name)": "postgres",
  'rollout/build-phases.ts: phase?.startsWith("index validation")': "postgres",
  // sql/workloads/ files: their header comments and a query's own text.
  "rollout/workloads.ts: HEADER.exec(line.trim())": "file",
  "rollout/workloads.ts: NAME.test(value)": "file",
  'rollout/workloads.ts: !line.trim().startsWith("--")': "file",
  "rollout/workloads.ts: /TABLESAMPLE/i.test(w.paramsQuery)": "file",
  // Audit export to CSV: a cell a spreadsheet would run as a formula.
  "audit/query.ts: /^[=+\\-@\\t\\r]/.test(s)": "output",
  // The anchor file's checkpoints.
  "audit/anchor.ts: !HEX64.test(c.hash)": "file",
  // EXPLAIN (VERBOSE) output of PostgreSQL.
  "targets/catalog.ts: /^\\s*Query Identifier: (-?\\d+)/.exec": "postgres",
  // Setting values of a change set's SET statements, as PostgreSQL would parse them.
  "changeset/settings.ts: /^\\s*(-?\\d+(?:\\.\\d+)?)\\s*(us|ms|s|min|h|d)?\\s*$/.exec(value)": "sql",
  "changeset/settings.ts: /^\\s*(-?\\d+(?:\\.\\d+)?)\\s*(B|kB|MB|GB|TB)?\\s*$/.exec(value)": "sql",
  "changeset/settings.ts: /^\\s*\\d+\\s*$/.test(value)": "sql",
  // File names on disk and change set ids from a URL.
  'changeset/store.ts: n.endsWith(".sql")': "file",
  "changeset/store.ts: /^file:([A-Za-z0-9_.-]+\\.sql)$/.exec(id)": "url",
  "changeset/store.ts: /^db:(\\d{1,15})$/.exec(id)": "url",
  'changeset/files.ts: e.name.endsWith(".sql")': "file",
  'store/migrator.ts: n.endsWith(".sql")': "file",
  "store/migrator.ts: FILE_PATTERN.exec(name)": "file",
  'demo/build.ts: name.endsWith(".test.ts")': "file",
  // Comments in a change set's SQL (suppressions), which the parser leaves out of its tree.
  'changeset/parse.ts: text.trimStart().startsWith("--")': "sql",
  "changeset/parse.ts: IGNORE.exec(text)": "sql",
  // Names from the libpg-query tree and tokens of the SQL text: PostgreSQL's reserved schema prefixes, quoted names.
  'changeset/statement-policy.ts: rel.schema.startsWith("pg_temp")': "sql",
  'changeset/statement-policy.ts: rel.name.startsWith("pg_")': "sql",
  "changeset/rules/index-name-too-long.ts: token.startsWith('\"')": "sql",
  // Node's parseArgs errors carry codes with this prefix.
  'cli/main.ts: code?.startsWith("ERR_PARSE_ARGS")': "library",
  // A connection URL given on the command line: its scheme.
  "cli/phase-commands.ts: POSTGRES_URL.test(url)": "argv",
  // Environment variables.
  "monitor/collector.ts: /^(\\d+)h,(\\d+)d,(\\d+)d$/.exec(value.trim())": "env",
  "demo/main.ts: /^([a-z,]+) (\\d\\d:\\d\\d)-(\\d\\d:\\d\\d) (\\S+)$/.exec(text.trim())": "argv",
  // PostgreSQL's message for a 42501: which grant is missing (only the hint's wording depends on it).
  "monitor/collector.ts: /permission denied for database/.test(message)": "postgres",
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "testing" ? [] : sources(full);
    return /\.(ts|mjs)$/.test(e.name) && !e.name.endsWith(".test.ts") ? [full] : [];
  });
}

describe("lib/ decides by data, not by reading prose", () => {
  const hits = sources(LIB).flatMap((file) =>
    readFileSync(file, "utf8")
      .split("\n")
      .flatMap((line, i) => (MATCHING.test(line) ? [{ file: path.relative(LIB, file), line: i + 1, text: line.trim() }] : [])),
  );
  const entries = Object.keys(ALLOWED).map((k) => ({ key: k, file: k.slice(0, k.indexOf(": ")), snippet: k.slice(k.indexOf(": ") + 2) }));

  it("finds text matching only where an allowed entry says why", () => {
    expect(hits.length).toBeGreaterThan(10); // the scan reads lib/ at all
    const unlisted = hits.filter((h) => !entries.some((e) => e.file === h.file && h.text.includes(e.snippet)));
    expect(unlisted.map((h) => `${h.file}:${h.line}: ${h.text}`)).toEqual([]);
  });

  it("keeps no entry that no longer matches anything", () => {
    const stale = entries.filter((e) => !hits.some((h) => h.file === e.file && h.text.includes(e.snippet)));
    expect(stale.map((e) => e.key)).toEqual([]);
  });
});
