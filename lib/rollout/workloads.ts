import { readFile } from "node:fs/promises";
import path from "node:path";
import { parseSync } from "../changeset/pg-parser";
import { parserReady } from "../changeset/parse";
import { Source } from "../changeset/source";

export const WORKLOAD_DIR = path.join(process.cwd(), "sql", "workloads");

/** The query patterns' text of an upload is capped like its SQL's. */
export const MAX_WORKLOAD_BYTES = 256 * 1024;

export interface Workload {
  name: string;
  index: string;
  paramsQuery: string;
  query: string;
}

export class WorkloadError extends Error {}

/**
 * Functions a SELECT can call that act beyond reading, and that a READ ONLY transaction does not stop:
 * they signal or lock out other sessions, reset the statistics monitoring reads, reload or rotate the
 * server, sleep, or reach files and other servers. A query pattern runs on the target hundreds of times
 * (probes) and before the approvers' eyes only as text, so these are refused where it is written.
 */
const SIDE_EFFECT_FUNCTIONS = new Set([
  "pg_terminate_backend",
  "pg_cancel_backend",
  "pg_reload_conf",
  "pg_rotate_logfile",
  "pg_log_backend_memory_contexts",
  "set_config",
  "pg_advisory_lock",
  "pg_advisory_lock_shared",
  "pg_advisory_xact_lock",
  "pg_advisory_xact_lock_shared",
  "pg_try_advisory_lock",
  "pg_try_advisory_lock_shared",
  "pg_try_advisory_xact_lock",
  "pg_try_advisory_xact_lock_shared",
  "pg_sleep",
  "pg_sleep_for",
  "pg_sleep_until",
  "pg_notify",
  "pg_stat_reset",
  "pg_stat_reset_shared",
  "pg_stat_reset_single_table_counters",
  "pg_stat_reset_single_function_counters",
  "pg_stat_reset_slru",
  "pg_stat_reset_replication_slot",
  "pg_stat_statements_reset",
  "pg_switch_wal",
  "pg_create_restore_point",
  "pg_promote",
  "pg_backup_start",
  "pg_backup_stop",
  "pg_create_physical_replication_slot",
  "pg_create_logical_replication_slot",
  "pg_drop_replication_slot",
  "pg_read_file",
  "pg_read_binary_file",
  "pg_ls_dir",
  "pg_stat_file",
  "lo_import",
  "lo_export",
  "lo_unlink",
  "lo_create",
  "lo_creat",
  "lo_from_bytea",
  "lo_put",
  "nextval",
  "setval",
  "dblink",
  "dblink_exec",
  "dblink_connect",
]);

/** Statement nodes that write, wherever they sit in a SELECT's tree (a data-modifying WITH). */
const WRITING_NODES: Record<string, string> = {
  InsertStmt: "an INSERT",
  UpdateStmt: "an UPDATE",
  DeleteStmt: "a DELETE",
  MergeStmt: "a MERGE",
};

const NAME = /^[A-Za-z0-9_.-]{1,100}$/;
const HEADER = /^--\s*(name|index|params):\s*(.+)$/;

type Obj = Record<string, unknown>;

/** A query of a workload file: its text and how a byte offset in it maps back to the file. */
interface Located {
  text: string;
  /** Byte offset in `text` → byte offset in the file. */
  fileOffset: (byte: number) => number;
}

/**
 * Reads query patterns: blocks of `-- name:`, `-- index:`, `-- params:` header lines, then the query up to
 * its `;`. Both the query and the params query run on the target, so each must parse (libpg-query) as one
 * read-only SELECT: no writing WITH, no SELECT INTO, no FOR UPDATE/SHARE, none of SIDE_EFFECT_FUNCTIONS.
 * With `indexes` (what the change set creates), each pattern must name one of them. Anything else is a
 * WorkloadError naming `file:line:column`, the workload and what is wrong.
 */
export async function parseWorkloads(file: string, text: string, opts: { indexes?: readonly string[] } = {}): Promise<Workload[]> {
  await parserReady();
  const source = new Source(file, text);
  const out: Workload[] = [];
  let block: {
    name: string;
    line: number;
    index?: { text: string; at: number };
    params?: Located;
    body: Array<{ text: string; start: number }>;
  } | null = null;
  const fail = (byte: number, message: string): never => {
    const { line, column } = source.position(byte);
    throw new WorkloadError(`${file}:${line}:${column}: ${message}`);
  };
  const flush = () => {
    if (!block) return;
    const b = block;
    const at = source.lineStart(b.line);
    if (!b.index) fail(at, `workload ${b.name} has no -- index: line`);
    if (!b.params) fail(at, `workload ${b.name} has no -- params: line`);
    const body = joined(b.body);
    const query = body.text.trim().replace(/;\s*$/, "");
    if (!query) fail(at, `workload ${b.name} has no query`);
    readOnlySelect(b.params!, `workload ${b.name}: params`, fail, { parameters: false });
    readOnlySelect(body, `workload ${b.name}: query`, fail, { parameters: true });
    if (opts.indexes && !opts.indexes.includes(b.index!.text))
      fail(
        b.index!.at,
        `workload ${b.name} names index ${b.index!.text}, which the change set does not create (it creates ${opts.indexes.join(", ") || "none"})`,
      );
    out.push({ name: b.name, index: b.index!.text, paramsQuery: b.params!.text.trim(), query });
  };
  for (let n = 1; n <= source.lineCount; n++) {
    const line = source.line(n);
    const start = source.lineStart(n);
    const header = HEADER.exec(line.trim());
    if (header) {
      const value = header[2].trim();
      const valueStart = start + Buffer.byteLength(line.slice(0, line.indexOf(value, line.indexOf(":") + 1)));
      if (header[1] === "name") {
        flush();
        if (!NAME.test(value)) fail(valueStart, `workload name ${JSON.stringify(value)}: 1-100 letters, digits, '.', '_' or '-'`);
        if (out.some((w) => w.name === value)) fail(valueStart, `workload ${value} is declared twice`);
        block = { name: value, line: n, body: [] };
      } else if (!block) fail(start, `-- ${header[1]}: before any -- name: line`);
      else if (header[1] === "index") block.index = { text: value, at: valueStart };
      else block.params = { text: value, fileOffset: (byte) => valueStart + byte };
    } else if (block && !line.trim().startsWith("--")) {
      block.body.push({ text: line, start });
    } else if (!block && line.trim() && !line.trim().startsWith("--")) {
      fail(start, "a query before any -- name: line");
    }
  }
  flush();
  return out;
}

/** The body's lines joined with newlines, mapping each byte back to the line it came from. */
function joined(lines: Array<{ text: string; start: number }>): Located {
  const starts: number[] = [];
  let at = 0;
  for (const l of lines) {
    starts.push(at);
    at += Buffer.byteLength(l.text) + 1;
  }
  return {
    text: lines.map((l) => l.text).join("\n"),
    fileOffset: (byte) => {
      let i = starts.length - 1;
      while (i > 0 && starts[i] > byte) i--;
      return lines.length ? lines[i].start + (byte - starts[i]) : 0;
    },
  };
}

/** Refuses anything but one read-only SELECT, naming where in the file the offending part is. */
function readOnlySelect(q: Located, what: string, fail: (byte: number, message: string) => never, opts: { parameters: boolean }): void {
  let stmts: Array<{ stmt?: Obj; stmt_location?: number }>;
  try {
    stmts = (parseSync(q.text) as { stmts?: Array<{ stmt?: Obj; stmt_location?: number }> }).stmts ?? [];
  } catch (err) {
    // The parser's cursor counts characters; the file's positions are bytes.
    const e = err as { message: string; sqlDetails?: { cursorPosition?: number } };
    const chars = Math.max(0, e.sqlDetails?.cursorPosition ?? 0);
    return fail(q.fileOffset(Buffer.byteLength(q.text.slice(0, chars))), `${what}: ${e.message}`);
  }
  const real = stmts.filter((s) => s.stmt);
  if (real.length !== 1) {
    const second = real[1]?.stmt_location ?? 0;
    return fail(q.fileOffset(second), `${what}: ${real.length} statements; a query pattern is exactly one SELECT`);
  }
  const kind = Object.keys(real[0].stmt!)[0];
  if (kind !== "SelectStmt")
    return fail(q.fileOffset(real[0].stmt_location ?? 0), `${what}: ${kind} is not a SELECT; only read-only SELECTs run on the target`);
  const walk = (node: unknown, loc: number) => {
    if (Array.isArray(node)) return node.forEach((n) => walk(n, loc));
    if (!node || typeof node !== "object") return;
    const o = node as Obj;
    const here = typeof o.location === "number" && o.location >= 0 ? o.location : loc;
    for (const [key, value] of Object.entries(o)) {
      const inner = value && typeof value === "object" && !Array.isArray(value) ? (value as Obj) : null;
      const at = typeof inner?.location === "number" && inner.location >= 0 ? inner.location : here;
      if (key in WRITING_NODES) fail(q.fileOffset(at), `${what}: ${WRITING_NODES[key]} inside the SELECT; a query pattern only reads`);
      if (key === "intoClause") fail(q.fileOffset(at), `${what}: SELECT INTO creates a table; a query pattern only reads`);
      if (key === "lockingClause") fail(q.fileOffset(here), `${what}: FOR UPDATE/SHARE locks rows; a query pattern only reads`);
      if (key === "ParamRef" && !opts.parameters) fail(q.fileOffset(at), `${what}: a $n parameter; the params query runs without any`);
      if (key === "FuncCall") {
        const names = ((inner?.funcname as Obj[] | undefined) ?? []).map((n) => String((n.String as Obj | undefined)?.sval ?? ""));
        const fn = names[names.length - 1]?.toLowerCase();
        if (fn && SIDE_EFFECT_FUNCTIONS.has(fn)) fail(q.fileOffset(at), `${what}: ${fn}() acts beyond reading; a query pattern only reads`);
      }
      walk(value, at);
    }
  };
  walk(real[0].stmt, real[0].stmt_location ?? 0);
}

/** The query patterns of a change set in the checkout: sql/workloads/<same file name>, or none. */
export async function workloadsFor(changesetName: string, dir = WORKLOAD_DIR): Promise<Workload[]> {
  return parseWorkloads(changesetName, await workloadsText(changesetName, dir));
}

/** The text of sql/workloads/<same file name>, or "" when the change set declares none. */
export async function workloadsText(changesetName: string, dir = WORKLOAD_DIR): Promise<string> {
  try {
    return await readFile(path.join(dir, path.basename(changesetName)), "utf8");
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return "";
    throw err;
  }
}

/**
 * Parameter rows for a query pattern. TABLESAMPLE keeps sampling cheap on big tables but can return
 * nothing on small ones; then the same query runs without it (its LIMIT still bounds the cost).
 */
export async function sampleParams(
  db: { query: (sql: string) => Promise<{ rows: Array<Record<string, unknown>> }> },
  w: Workload,
): Promise<unknown[][]> {
  let { rows } = await db.query(w.paramsQuery);
  if (!rows.length && /TABLESAMPLE/i.test(w.paramsQuery)) {
    ({ rows } = await db.query(w.paramsQuery.replace(/TABLESAMPLE\s+\w+\s*\([^)]*\)(\s*REPEATABLE\s*\([^)]*\))?/i, "")));
  }
  return rows.map((r) => Object.values(r));
}
