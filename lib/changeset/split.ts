/**
 * Finds statement boundaries in a change set the way psql and PostgreSQL's scanner do, without
 * parsing: a top-level `;` ends a statement; quotes, quoted identifiers, dollar quotes and
 * comments hide semicolons. It never fails: text PostgreSQL would not accept still gets a
 * boundary, so one broken statement cannot hide the statements after it.
 *
 * Where psql and the server read text differently from plain SQL, the splitter says so instead of
 * guessing: a backslash outside a literal starts a psql meta-command (`\set`, `\d`, `\gset`), which
 * psql reads to the end of the line; a literal still open at the end of the file has no boundary
 * after it at all, because the server would read everything that follows as part of it.
 */

export type Piece =
  /**
   * Text ending at a top-level `;` (included), at a meta-command, or at the end of the file.
   * `backslashAt`: where the first standard string literal ('…', N'…') holding a backslash opens —
   * the text a server with standard_conforming_strings off would read differently.
   */
  | { kind: "sql"; start: number; end: number; backslashAt?: number }
  /** A psql meta-command: the backslash to the end of its line. */
  | { kind: "meta-command"; start: number; end: number }
  /** The lines psql sends as the data of a `COPY … FROM STDIN`, through the `\.` line that ends them. */
  | { kind: "copy-data"; start: number; end: number }
  /** A statement whose literal or comment opened at `openAt` is never closed: it runs to the end. */
  | { kind: "unterminated"; start: number; end: number; openAt: number; literal: UnterminatedLiteral };

/** PostgreSQL's own names for what was left open (its scanner's error messages use them). */
export type UnterminatedLiteral = "quoted string" | "quoted identifier" | "dollar-quoted string" | "/* comment";

const QUOTE = 0x27;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const DOLLAR = 0x24;
const LF = 0x0a;
const CR = 0x0d;

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
// PostgreSQL's ident_start and ident_cont: bytes >= 0x80 are letters, so UTF-8 names are words.
const isIdentStart = (c: number) => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c >= 0x80;
const isIdentCont = (c: number) => isIdentStart(c) || isDigit(c) || c === DOLLAR;

/** Splits UTF-8 SQL bytes into pieces that cover the input without gaps, in order. */
export function splitStatements(b: Uint8Array): Piece[] {
  const n = b.length;
  const pieces: Piece[] = [];
  let start = 0;
  let i = 0;
  let backslashAt = -1;
  // The last word read, when it was one letter, and where it ended: B'…', X'…' and U&'…' prefixes.
  let letter = 0;
  let letterEnd = -1;
  const sql = (end: number): Piece => (backslashAt < 0 ? { kind: "sql", start, end } : { kind: "sql", start, end, backslashAt });
  const unterminated = (openAt: number, literal: UnterminatedLiteral) => {
    pieces.push({ kind: "unterminated", start, end: n, openAt, literal });
    return pieces;
  };
  // psql reads the lines after `COPY … FROM STDIN;` as data, not SQL: the statement's words are
  // followed far enough to know that (COPY first, then FROM STDIN outside parentheses).
  let words = 0;
  let isCopy = false;
  let depth = 0;
  let afterFrom = false;
  let fromStdin = false;
  while (i < n) {
    const c = b[i];
    if (c === 0x28) depth++;
    else if (c === 0x29) depth--;
    if (c === 0x2d && b[i + 1] === 0x2d) {
      // A -- comment ends at a newline, and the scanner counts \r as one (scan.l: newline [\n\r]).
      i = lineEndAt(b, i);
    } else if (c === 0x2f && b[i + 1] === 0x2a) {
      const close = blockCommentEnd(b, i);
      if (close < 0) return unterminated(i, "/* comment");
      i = close;
    } else if (c === QUOTE) {
      const bits = letterEnd === i && (letter === 0x62 || letter === 0x78); // B'…', X'…'
      const unicode = letterEnd === i - 1 && b[i - 1] === 0x26 && letter === 0x75; // U&'…', refused with standard_conforming_strings off
      const close = quotedEnd(b, i, bits ? "bits" : "standard");
      if (close < 0) return unterminated(i, "quoted string");
      if (backslashAt < 0 && !bits && !unicode && b.subarray(i, close).includes(BACKSLASH)) backslashAt = i;
      i = close;
    } else if (c === DQUOTE) {
      const close = quotedEnd(b, i, "identifier");
      if (close < 0) return unterminated(i, "quoted identifier");
      i = close;
    } else if (c === DOLLAR) {
      const tagEnd = dollarTagEnd(b, i);
      if (tagEnd < 0) {
        i++;
        while (i < n && isDigit(b[i])) i++; // a parameter ($1) or a lone $
        continue;
      }
      const close = indexOfBytes(b, b.subarray(i, tagEnd), tagEnd);
      if (close < 0) return unterminated(i, "dollar-quoted string");
      i = close + (tagEnd - i);
    } else if (isIdentStart(c)) {
      let j = i + 1;
      while (j < n && isIdentCont(b[j])) j++;
      // E'...' is the one literal where a backslash escapes the quote; the prefix must be a word
      // of its own (in `de'x'` the word is `de` and the string is a plain one).
      if (j === i + 1 && (c === 0x45 || c === 0x65) && b[j] === QUOTE) {
        const close = quotedEnd(b, j, "escape");
        if (close < 0) return unterminated(j, "quoted string");
        j = close;
      } else {
        letter = j === i + 1 ? c | 0x20 : 0;
        letterEnd = j;
        if (words === 0) isCopy = wordIs(b, i, j, "copy");
        else if (isCopy && depth === 0) {
          fromStdin ||= afterFrom && wordIs(b, i, j, "stdin");
          afterFrom = wordIs(b, i, j, "from");
        }
        words++;
      }
      i = j;
    } else if (isDigit(c)) {
      // A number with whatever word characters follow it (1e5, 0x1F, 1_000): never a dollar quote.
      i++;
      while (i < n && (isDigit(b[i]) || isIdentStart(b[i]) || b[i] === 0x2e)) i++;
    } else if (c === 0x3b) {
      i++;
      if (fromStdin) {
        // The data starts on the next line and runs through a line of its own holding `\.`.
        const dataStart = Math.min(n, lineEnd(b, i) + 1);
        let end = dataStart;
        while (end < n) {
          const eol = lineEnd(b, end);
          const line = b.subarray(end, eol > end && b[eol - 1] === CR ? eol - 1 : eol);
          end = Math.min(n, eol + 1);
          if (line.length === 2 && line[0] === BACKSLASH && line[1] === 0x2e) break;
        }
        pieces.push(sql(dataStart));
        if (end > dataStart) pieces.push({ kind: "copy-data", start: dataStart, end });
        i = end;
      } else {
        pieces.push(sql(i));
      }
      start = i;
      backslashAt = -1;
      words = depth = 0;
      isCopy = afterFrom = fromStdin = false;
    } else if (c === BACKSLASH) {
      // psql takes a backslash outside quotes as the start of a meta-command that runs to the end
      // of the line (`SELECT ... \gset` included); what came before it is a statement of its own.
      if (i > start) pieces.push(sql(i));
      let eol = i;
      while (eol < n && b[eol] !== LF) eol++;
      pieces.push({ kind: "meta-command", start: i, end: eol });
      start = i = eol;
      backslashAt = -1;
      words = depth = 0;
      isCopy = afterFrom = fromStdin = false;
    } else {
      i++;
    }
  }
  if (start < n) pieces.push(sql(n));
  return pieces;
}

/** Index of the line feed ending the line `i` is on, or the length of the input. */
function lineEnd(b: Uint8Array, i: number): number {
  while (i < b.length && b[i] !== LF) i++;
  return i;
}

/** Whether bytes [i, j) are `word` (lower case ASCII) in any case, as the scanner reads keywords. */
function wordIs(b: Uint8Array, i: number, j: number, word: string): boolean {
  if (j - i !== word.length) return false;
  for (let k = 0; k < word.length; k++) if ((b[i + k] | 0x20) !== word.charCodeAt(k)) return false;
  return true;
}

/** End (exclusive) of a nested block comment opening at `i`, or -1 if it never closes. */
function blockCommentEnd(b: Uint8Array, i: number): number {
  let depth = 1;
  i += 2;
  while (i < b.length) {
    if (b[i] === 0x2f && b[i + 1] === 0x2a) {
      depth++;
      i += 2;
    } else if (b[i] === 0x2a && b[i + 1] === 0x2f) {
      i += 2;
      if (--depth === 0) return i;
    } else i++;
  }
  return -1;
}

/**
 * How the scanner reads a quoted token: a doubled quote stands for itself except in bit strings;
 * only in E'…' is `\x` one unit (the parser reads plain strings with standard_conforming_strings
 * on, and indexdeck's apply session pins it on); string literals, unlike identifiers, can continue
 * on a later line.
 */
type Quoting = "identifier" | "standard" | "escape" | "bits";

/** End (exclusive) of the quoted token opening at `i`, or -1 if it never closes. */
function quotedEnd(b: Uint8Array, i: number, quoting: Quoting): number {
  const quote = quoting === "identifier" ? DQUOTE : QUOTE;
  let j = i + 1;
  while (j < b.length) {
    const c = b[j];
    if (quoting === "escape" && c === BACKSLASH) j += 2;
    else if (c !== quote) j++;
    else if (quoting !== "bits" && b[j + 1] === quote) j += 2;
    else {
      const next = quoting === "identifier" ? -1 : continuedAt(b, j + 1);
      if (next < 0) return j + 1;
      j = next + 1;
    }
  }
  return -1;
}

/**
 * PostgreSQL's quotecontinue: a string literal followed by blanks holding a newline, then a quote,
 * goes on in that quote, read as the literal it continues (an E'…' stays one). A comment in between
 * ends the literal (PostgreSQL 18's scanner; older ones let a -- comment through).
 * Returns the continuing quote's offset, or -1.
 */
function continuedAt(b: Uint8Array, j: number): number {
  let newline = false;
  for (; j < b.length; j++) {
    const c = b[j];
    if (c === LF || c === CR) newline = true;
    else if (c !== 0x20 && c !== 0x09 && c !== 0x0c && c !== 0x0b) break;
  }
  return newline && b[j] === QUOTE ? j : -1;
}

/** Offset of the newline (LF or CR, as the scanner counts them) ending the line at `i`, or the length. */
function lineEndAt(b: Uint8Array, i: number): number {
  while (i < b.length && b[i] !== LF && b[i] !== CR) i++;
  return i;
}

/** End (exclusive) of a dollar-quote tag (`$$`, `$tag$`) starting at `i`, or -1 if `$` starts none. */
function dollarTagEnd(b: Uint8Array, i: number): number {
  let j = i + 1;
  if (j < b.length && isIdentStart(b[j])) {
    j++;
    while (j < b.length && (isIdentStart(b[j]) || isDigit(b[j]))) j++;
  }
  return b[j] === DOLLAR ? j + 1 : -1;
}

function indexOfBytes(b: Uint8Array, needle: Uint8Array, from: number): number {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).indexOf(needle, from);
}
