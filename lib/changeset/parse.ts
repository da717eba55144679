import type { Node } from "libpg-query";
import { readStatementFacts, readsTree, treeKinds } from "./nodes";
import type { ParseAhead, ParseWorker } from "./parse-ahead";
import { parseBytes, parserModule, parseSync, SqlError, type ParsedRaw } from "./pg-parser";
import { Source, type SqlText } from "./source";
import { splitStatements, type Piece } from "./split";

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
  /** Byte offset of its first standard string literal holding a backslash (the splitter's `backslashAt`), or null. */
  backslashAt: number | null;
  /** What readers keep of the statement, a slot each (`memoSlot` in nodes.ts); undefined until read. */
  readonly memo: unknown[];
}

export interface SyntaxProblem {
  line: number;
  column: number;
  message: string;
  /** What the text is: SQL PostgreSQL refuses, or psql's own input (a meta-command, COPY data): not SQL at all. */
  kind: "sql" | "meta-command";
}

export interface ParsedChangeSet {
  source: Source;
  statements: Statement[];
  syntaxErrors: SyntaxProblem[];
}

export { parserReady } from "./pg-parser";

/**
 * A `;` can sit inside a statement (BEGIN ATOMIC bodies, CREATE RULE actions): the parser then
 * stops at the end of the piece. The next pieces are joined on, up to these bounds, so a valid
 * statement is never reported broken, and a broken one cannot make the retries quadratic.
 */
const MAX_JOINED_PIECES = 64;
const MAX_JOINED_BYTES = 1024 * 1024;

/**
 * Consecutive statements are parsed together up to this many bytes: one parser call per statement
 * costs about twice as much in all, and one call for a whole file builds the trees of every
 * statement at once (hundreds of MB for a few MB of SQL). Small chunks keep a chunk's trees short-
 * lived: at 16 KB a 7 MB file peaked 20–30 MB higher, for the same CPU time.
 */
const CHUNK_BYTES = 4 * 1024;

/**
 * The trees of a file's first statements, up to this much SQL, are kept from the first parse: a
 * change set of ordinary size (the web app takes up to 1 MiB, most are a few KB) is then parsed
 * once, while a file of many MB keeps only a few MB of trees (about 90 bytes of tree per byte of SQL).
 */
const KEPT_TREE_SQL_BYTES = 64 * 1024;

/**
 * From this much SQL on, a second thread parses ahead of the linter when there is one to start
 * (parse-ahead.ts): starting it and its parser costs more than it saves on a file of ordinary size.
 */
export const PARSE_AHEAD_BYTES = 1024 * 1024;

export interface ParseOptions {
  /**
   * The first statements' trees, up to this much SQL, are kept; with no bound, every tree is decoded
   * and kept, as a short file's are (the tests hold a long file's findings to that).
   */
  keptTreeBytes?: number;
  /** A thread to parse ahead in (the compiled CLI starts one), for a file of PARSE_AHEAD_BYTES or more. */
  parseWorker?: ParseWorker;
}

/** Parses a change set; call after `await parserReady()`. Never throws on bad SQL (see `parseStatements`). */
export function parseChangeSet(file: string, text: SqlText): ParsedChangeSet {
  const source = new Source(file, text);
  const statements: Statement[] = [];
  const syntaxErrors: SyntaxProblem[] = [];
  for (const item of parseStatements(source)) {
    if ("statement" in item) statements.push(item.statement);
    else syntaxErrors.push(item.syntaxError);
  }
  return { source, statements, syntaxErrors };
}

export type ParsedItem = { statement: Statement } | { syntaxError: SyntaxProblem };

/**
 * Parses a change set a little at a time, statements and unchecked text in file order, so a caller
 * can work through a long file a part at a time and pause between parts. Every piece of text is
 * either parsed into statements or reported, with its lines, as not checked. `prepare` sees each
 * statement while its parse tree is at hand: what it reads from the tree then costs no second parse.
 */
export function* parseStatements(
  source: Source,
  prepare: (stmt: Statement) => void = readStatementFacts,
  { keptTreeBytes = KEPT_TREE_SQL_BYTES, parseWorker }: ParseOptions = {},
): Generator<ParsedItem> {
  const pieces = splitStatements(source.bytes);
  const ahead =
    parseWorker && source.bytes.length >= PARSE_AHEAD_BYTES
      ? parseWorker.ahead(parserModule(), source.bytes, chunkRanges(pieces), treeKinds(), keptTreeBytes)
      : null;
  try {
    yield* parsePieces(source, pieces, prepare, keptTreeBytes, ahead);
  } finally {
    ahead?.stop();
  }
}

/**
 * The run of sql pieces from `p` that is parsed in one call: up to CHUNK_BYTES in all, and at least
 * the piece itself. Returns the index of its last piece.
 */
function chunkLast(pieces: Piece[], p: number): number {
  let last = p;
  while (last + 1 < pieces.length && pieces[last + 1].kind === "sql" && pieces[last + 1].end - pieces[p].start <= CHUNK_BYTES) last++;
  return last;
}

/** The byte ranges the parse of `pieces` asks the parser for, in order, when every one of them parses. */
function chunkRanges(pieces: Piece[]): Int32Array {
  const ranges: number[] = [];
  for (let p = 0; p < pieces.length; p++) {
    if (pieces[p].kind !== "sql") continue;
    const last = chunkLast(pieces, p);
    ranges.push(pieces[p].start, pieces[last].end);
    p = last;
  }
  return Int32Array.from(ranges);
}

function* parsePieces(
  source: Source,
  pieces: Piece[],
  prepare: (stmt: Statement) => void,
  keptTreeBytes: number,
  ahead: ParseAhead | null,
): Generator<ParsedItem> {
  const ready: ParsedItem[] = [];
  let count = 0;
  const unchecked = (start: number, end: number, at: number, message: string, kind: SyntaxProblem["kind"] = "sql") => {
    ready.push({
      syntaxError: { ...source.position(at), message: `${lineRange(source, start, end)} could not be checked: ${message}`, kind },
    });
  };
  let treeBudget = keptTreeBytes;
  let cursor = 0; // statements come in order: the first piece that may hold the next one
  const backslashIn = (start: number, end: number): number | null => {
    while (cursor < pieces.length && pieces[cursor].end <= start) cursor++;
    for (let k = cursor; k < pieces.length && pieces[k].start < end; k++) {
      const piece = pieces[k];
      if (piece.kind === "sql" && piece.backslashAt !== undefined && piece.backslashAt >= start && piece.backslashAt < end) {
        return piece.backslashAt;
      }
    }
    return null;
  };
  // A tree is decoded when `prepare` reads it (see readsTree) or may be kept; past the first ones most
  // statements need only their kind, and decoding every tree was most of a long file's lint time.
  // The budget is spent in `add`, after every statement of the parse was asked about: never less
  // than it then finds, so a tree it keeps was always decoded.
  const parse = (start: number, end: number): Parsed => {
    const parsed = ahead?.take(start, end);
    if (parsed) return { stmts: parsed };
    return tryParse(
      source.bytes.subarray(start, end),
      (kind, location, length) => readsTree(kind) || (length || withoutSemicolon(source.bytes, end) - start - location) <= treeBudget,
    );
  };
  // A statement the worker parsed may come without a tree this would have kept: it is then not kept.
  const add = (stmts: ParsedRaw[], base: number, end: number) => {
    for (const raw of stmts) {
      const loc = base + raw.location;
      const stmtEnd = raw.length ? loc + raw.length : withoutSemicolon(source.bytes, end);
      const keep = raw.tree !== undefined && stmtEnd - loc <= treeBudget;
      if (keep) treeBudget -= stmtEnd - loc;
      const stmt = makeStatement(source, count++, raw.kind || "Unknown", raw.tree, loc, stmtEnd, backslashIn(loc, stmtEnd));
      prepare(stmt);
      if (!keep) stmt.dropTree();
      ready.push({ statement: stmt });
    }
  };

  let oneByOneUntil = -1;
  for (let p = 0; p < pieces.length;) {
    yield* ready.splice(0);
    const piece = pieces[p];
    if (piece.kind === "meta-command") {
      unchecked(
        piece.start,
        piece.end,
        piece.start,
        `${metaCommandName(source, piece.start, piece.end)} is a psql meta-command, not SQL`,
        "meta-command",
      );
      p++;
      continue;
    }
    if (piece.kind === "copy-data") {
      unchecked(piece.start, piece.end, piece.start, "data for COPY … FROM STDIN, which psql sends and indexdeck does not", "meta-command");
      p++;
      continue;
    }
    if (piece.kind === "unterminated") {
      const first = Math.min(skipTrivia(source.bytes, piece.start, piece.end), piece.openAt);
      unchecked(
        first,
        piece.end,
        piece.openAt,
        `unterminated ${piece.literal}: it never closes, so the server would read everything after it as part of it`,
      );
      p++;
      continue;
    }
    // The common case: a run of statements that all parse, in one call.
    const last = chunkLast(pieces, p);
    if (last > p && p > oneByOneUntil) {
      const chunk = parse(piece.start, pieces[last].end);
      if ("stmts" in chunk) {
        add(chunk.stmts, piece.start, pieces[last].end);
        p = last + 1;
        continue;
      }
      // The pieces before the one the error is in still parse together.
      const at = piece.start + (chunk.error.sqlDetails?.cursorPosition ?? 0);
      let broken = p;
      while (broken < last && pieces[broken].end <= at) broken++;
      if (broken > p) {
        const before = parse(piece.start, pieces[broken - 1].end);
        if ("stmts" in before) {
          add(before.stmts, piece.start, pieces[broken - 1].end);
          p = broken;
          continue;
        }
        // Neither parses (a statement spans pieces and breaks): this run goes piece by piece, once.
        oneByOneUntil = last;
      }
    }
    p = parsePiece(source, pieces, p, parse, add, unchecked);
  }
  yield* ready.splice(0);
}

/** Parses the sql piece at `p` on its own, joining the next ones where it needs them; returns the next piece's index. */
function parsePiece(
  source: Source,
  pieces: Piece[],
  p: number,
  parse: (start: number, end: number) => Parsed,
  add: (stmts: ParsedRaw[], base: number, end: number) => void,
  unchecked: (start: number, end: number, at: number, message: string) => void,
): number {
  const piece = pieces[p];
  const first = skipTrivia(source.bytes, piece.start, piece.end);
  if (first === piece.end) return p + 1; // blanks and comments only
  const own = parse(piece.start, piece.end);
  let result = own;
  let joined = p;
  // Join the following pieces while the parser runs out of input inside the statement.
  while (
    "error" in result &&
    atEndOfInput(result.error, pieces[joined].end - piece.start) &&
    joined + 1 < pieces.length &&
    joined - p < MAX_JOINED_PIECES &&
    pieces[joined + 1].kind === "sql" &&
    pieces[joined + 1].end - piece.start <= MAX_JOINED_BYTES
  ) {
    const attempt = parse(piece.start, pieces[joined + 1].end);
    if ("error" in attempt && !atEndOfInput(attempt.error, pieces[joined + 1].end - piece.start)) break;
    joined++;
    result = attempt;
  }
  if ("stmts" in result) {
    add(result.stmts, piece.start, pieces[joined].end);
    return joined + 1;
  }
  // Reported for this piece alone: the pieces after it get their own chance.
  const error = "error" in own ? own.error : result.error;
  unchecked(first, piece.end, piece.start + Math.max(0, error.sqlDetails?.cursorPosition ?? 0), oneLine(error.message));
  return p + 1;
}

type Parsed = { stmts: ParsedRaw[] } | { error: SqlError };

/** SQL the parser refuses is an answer; any other failure is the linter's own and is thrown. */
function tryParse(bytes: Uint8Array, wantTree: Parameters<typeof parseBytes>[1]): Parsed {
  try {
    return { stmts: parseBytes(bytes, wantTree) };
  } catch (err) {
    if (err instanceof SqlError) return { error: err };
    throw err;
  }
}

/** The parser's cursor is a byte offset into the text it was given; at its length it ran out of input. */
function atEndOfInput(error: SqlError, length: number): boolean {
  return (error.sqlDetails?.cursorPosition ?? -1) >= length;
}

/** Keeps findings on one line: the parser's "near" text can hold newlines and whole statements. */
function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, " ").replace(/(near ")(.{40}).+(")$/, "$1$2…$3");
}

/** "line 4" or "lines 4–9": the lines from the first to the last non-blank byte of a range. */
function lineRange(source: Source, startByte: number, endByte: number): string {
  let last = endByte - 1;
  while (last > startByte && isBlank(source.bytes[last])) last--;
  const from = source.position(startByte).line;
  const to = source.position(Math.max(startByte, last)).line;
  return from === to ? `line ${from}` : `lines ${from}–${to}`;
}

function metaCommandName(source: Source, start: number, end: number): string {
  let i = start + 1;
  while (i < end && !isBlank(source.bytes[i]) && i - start < 32) i++;
  return source.slice(start, i);
}

/** A piece's text ends with its `;`, which belongs to no statement (PostgreSQL's stmt_len agrees). */
function withoutSemicolon(b: Buffer, end: number): number {
  return b[end - 1] === 0x3b ? end - 1 : end;
}

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c;
}

const IGNORE = /^\s*--\s*indexdeck-ignore\s+(.+)$/;

// Most statements have no ignore directives; they share these (frozen: nothing may add to them).
const NO_RULES = Object.freeze([]) as unknown as string[];
const NO_DIRECTIVES = Object.freeze([]) as unknown as Statement["directives"];

/**
 * A statement keeps its position and kind; its text, and its parse tree unless it is one of the first
 * ones kept, are read again when a rule asks for them. A file's trees all at once take tens of times
 * the file's size, and rules look into few of them (an index change set's statements; in other SQL
 * mostly just the kind). Locations inside a tree are offsets into what was parsed, not into the file.
 */
class ParsedStatement implements Statement {
  readonly memo: unknown[] = [];

  constructor(
    private readonly source: Source,
    readonly index: number,
    readonly startByte: number,
    readonly endByte: number,
    readonly line: number,
    readonly column: number,
    readonly kind: string,
    readonly ignored: string[],
    readonly directives: Statement["directives"],
    readonly backslashAt: number | null,
    private tree: Node | undefined,
  ) {}

  get text(): string {
    return this.source.slice(this.startByte, this.endByte);
  }

  /** The same tree the first parse built; a dropped one is parsed again, and only the last such is kept. */
  get node(): Node {
    if (this.tree) return this.tree;
    if (reparsed?.stmt !== this) reparsed = { stmt: this, tree: parseSync(this.text).stmts![0].stmt! };
    return reparsed.tree;
  }

  dropTree(): void {
    this.tree = undefined;
  }
}

let reparsed: { stmt: Statement; tree: Node } | null = null;

function makeStatement(
  source: Source,
  index: number,
  kind: string,
  node: Node | undefined,
  locByte: number,
  endByte: number,
  backslashAt: number | null,
): ParsedStatement {
  const startByte = skipTrivia(source.bytes, locByte, endByte);
  const { line, column } = source.position(startByte);
  let ignored = NO_RULES;
  let directives = NO_DIRECTIVES;
  // Directives sit in the unbroken run of comment lines directly above the statement.
  for (let l = line - 1; l >= 1; l--) {
    // Most statements have no comment above them: the line above is not made a string to learn that.
    if (!source.mayStartWithDashes(l)) break;
    const text = source.line(l);
    if (!text.trimStart().startsWith("--")) break;
    const m = IGNORE.exec(text);
    if (!m) continue;
    const col = text.indexOf("indexdeck-ignore") + "indexdeck-ignore".length + 2;
    if (ignored === NO_RULES) [ignored, directives] = [[], []];
    for (const rule of m[1]
      .split(",")
      .map((r) => r.trim())
      .filter(Boolean)) {
      ignored.push(rule);
      directives.push({ rule, line: l, column: col });
    }
  }
  return new ParsedStatement(source, index, startByte, endByte, line, column, kind, ignored, directives, backslashAt, node);
}

/** Skips blanks, `--` comments and (nested) block comments from `pos`. */
function skipTrivia(b: Buffer, pos: number, end: number): number {
  let i = pos;
  while (i < end) {
    const c = b[i];
    if (isBlank(c)) i++;
    else if (c === 0x2d && b[i + 1] === 0x2d) {
      while (i < end && b[i] !== 0x0a && b[i] !== 0x0d) i++; // the scanner ends -- comments at \r too
    } else if (c === 0x2f && b[i + 1] === 0x2a) {
      let depth = 1;
      i += 2;
      while (i < end && depth > 0) {
        if (b[i] === 0x2f && b[i + 1] === 0x2a) {
          depth++;
          i += 2;
        } else if (b[i] === 0x2a && b[i + 1] === 0x2f) {
          depth--;
          i += 2;
        } else i++;
      }
    } else break;
  }
  return i;
}
