import { loadModule, parseSync, scanSync, type Node } from "libpg-query";
import { Source } from "./source";

export interface Statement {
  index: number;
  /** Byte offsets of the statement itself (leading comments and blanks skipped). */
  startByte: number;
  endByte: number;
  line: number;
  column: number;
  text: string;
  /** The parse tree node, e.g. `{ IndexStmt: {...} }`. */
  node: Node;
  kind: string;
  /** Rule ids suppressed by `-- indexdeck-ignore` comments right above the statement. */
  ignored: string[];
  /** Ignore directives as written, with their position, to report unknown rule ids. */
  directives: Array<{ rule: string; line: number; column: number }>;
}

export interface SyntaxProblem {
  line: number;
  column: number;
  message: string;
}

export interface ParsedChangeSet {
  source: Source;
  statements: Statement[];
  syntaxErrors: SyntaxProblem[];
}

let ready: Promise<void> | null = null;
/** libpg-query compiles its WASM once per process; every entry point awaits this first. */
export function parserReady(): Promise<void> {
  ready ??= loadModule();
  return ready;
}

interface RawStmt {
  stmt?: Node;
  stmt_location?: number;
  stmt_len?: number;
}

interface PgError {
  message: string;
  sqlDetails?: { cursorPosition?: number };
}

/** Parses a change set; call after `await parserReady()`. Never throws on bad SQL. */
export function parseChangeSet(file: string, text: string): ParsedChangeSet {
  const source = new Source(file, text);
  const syntaxErrors: SyntaxProblem[] = [];
  const statements: Statement[] = [];
  const add = (raws: RawStmt[], baseByte: number, endLimit: number) => {
    for (const raw of raws) {
      if (!raw.stmt) continue;
      const loc = baseByte + (raw.stmt_location ?? 0);
      const end = raw.stmt_len ? loc + raw.stmt_len : endLimit;
      statements.push(makeStatement(source, statements.length, raw.stmt, loc, end));
    }
  };

  // The parser refuses an empty query; an empty change set is simply one with nothing in it.
  if (text.trim() === "") return { source, statements, syntaxErrors };
  const whole = tryParse(text);
  if ("stmts" in whole) {
    add(whole.stmts, 0, source.bytes.length);
    return { source, statements, syntaxErrors };
  }

  // The file as a whole does not parse. Recover statement by statement so that everything that
  // is valid still gets its findings, and every broken piece gets a syntax-error at its position.
  for (const piece of splitStatements(source, whole.error)) {
    const pieceText = source.slice(piece.start, piece.end);
    const result = tryParse(pieceText);
    if ("stmts" in result) add(result.stmts, piece.start, piece.end);
    else syntaxErrors.push(syntaxProblem(source, piece.start, result.error));
  }
  if (syntaxErrors.length === 0) syntaxErrors.push(syntaxProblem(source, 0, whole.error));
  return { source, statements, syntaxErrors };
}

function tryParse(text: string): { stmts: RawStmt[] } | { error: PgError } {
  try {
    return { stmts: (parseSync(text) as { stmts?: RawStmt[] }).stmts ?? [] };
  } catch (err) {
    return { error: err as PgError };
  }
}

function syntaxProblem(source: Source, baseByte: number, error: PgError): SyntaxProblem {
  const cursor = error.sqlDetails?.cursorPosition ?? 0;
  const pos = source.position(baseByte + Math.max(0, cursor));
  // Keep findings on one line: the "near" text can hold newlines and whole statements.
  let message = error.message.replace(/\s*\n\s*/g, " ").replace(/(near ")(.{40}).+(")$/, "$1$2…$3");
  if (source.line(pos.line).trimStart().startsWith("\\")) {
    message = `psql meta-command (${source.line(pos.line).trim().split(/\s+/)[0]}) is not SQL: indexdeck runs statements itself, so inline the SQL instead`;
  } else if (/unterminated/.test(message)) {
    message += " (everything after it is part of the unterminated literal, so the rest of the file was not checked)";
  }
  return { ...pos, message };
}

/**
 * Splits a file at top-level semicolons using PostgreSQL's own scanner (so semicolons inside
 * strings, comments and dollar quotes don't count). If even the scanner fails (an unterminated
 * literal), the text before the error is split and the rest becomes one broken piece.
 */
function splitStatements(source: Source, error: PgError): Array<{ start: number; end: number }> {
  const total = source.bytes.length;
  let scanEnd = total;
  let tokens: Array<{ start: number; end: number; tokenName: string }>;
  try {
    tokens = scanSync(source.text).tokens;
  } catch {
    scanEnd = Math.min(total, Math.max(0, error.sqlDetails?.cursorPosition ?? 0));
    try {
      tokens = scanSync(source.slice(0, scanEnd)).tokens;
    } catch {
      return [{ start: 0, end: total }];
    }
  }
  const pieces: Array<{ start: number; end: number }> = [];
  let start = 0;
  for (const t of tokens) {
    if (t.tokenName === "ASCII_59") {
      pieces.push({ start, end: t.end });
      start = t.end;
    }
  }
  if (source.slice(start, total).trim()) pieces.push({ start, end: total });
  return pieces;
}

const IGNORE = /^\s*--\s*indexdeck-ignore\s+(.+)$/;

function makeStatement(source: Source, index: number, node: Node, locByte: number, endByte: number): Statement {
  const startByte = skipTrivia(source.bytes, locByte, endByte);
  const { line, column } = source.position(startByte);
  const ignored: string[] = [];
  const directives: Statement["directives"] = [];
  // Directives sit in the unbroken run of comment lines directly above the statement.
  for (let l = line - 1; l >= 1; l--) {
    const text = source.line(l);
    if (!text.trimStart().startsWith("--")) break;
    const m = IGNORE.exec(text);
    if (!m) continue;
    const col = text.indexOf("indexdeck-ignore") + "indexdeck-ignore".length + 2;
    for (const rule of m[1].split(",").map((r) => r.trim()).filter(Boolean)) {
      ignored.push(rule);
      directives.push({ rule, line: l, column: col });
    }
  }
  const kind = Object.keys(node)[0] ?? "Unknown";
  return { index, startByte, endByte, line, column, text: source.slice(startByte, endByte), node, kind, ignored, directives };
}

/** Skips blanks, `--` comments and (nested) block comments from `pos`. */
function skipTrivia(b: Buffer, pos: number, end: number): number {
  let i = pos;
  while (i < end) {
    const c = b[i];
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c) i++;
    else if (c === 0x2d && b[i + 1] === 0x2d) {
      while (i < end && b[i] !== 0x0a) i++;
    } else if (c === 0x2f && b[i + 1] === 0x2a) {
      let depth = 1;
      i += 2;
      while (i < end && depth > 0) {
        if (b[i] === 0x2f && b[i + 1] === 0x2a) { depth++; i += 2; }
        else if (b[i] === 0x2a && b[i + 1] === 0x2f) { depth--; i += 2; }
        else i++;
      }
    } else break;
  }
  return i;
}
