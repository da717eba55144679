/** A change set's SQL: its text, or its checked UTF-8 bytes (files.ts checkChangeSet). */
export type SqlText = string | Uint8Array;

/**
 * A change set's text with a byte-offset index: libpg-query reports positions as UTF-8 byte
 * offsets, people read lines and columns.
 */
export class Source {
  readonly bytes: Buffer;
  private readonly lineStarts: number[];

  /** `sql`: the text, or its UTF-8 bytes as checkChangeSet (files.ts) leaves them, used as they are. */
  constructor(
    readonly file: string,
    sql: SqlText,
  ) {
    this.bytes = typeof sql === "string" ? Buffer.from(sql, "utf8") : Buffer.from(sql.buffer, sql.byteOffset, sql.byteLength);
    this.lineStarts = [0];
    for (let i = 0; i < this.bytes.length; i++) if (this.bytes[i] === 0x0a) this.lineStarts.push(i + 1);
  }

  get lineCount(): number {
    return this.lineStarts.length;
  }

  /** 1-based line and column (in characters) of a byte offset, clamped into the file. */
  position(byteOffset: number): { line: number; column: number } {
    const off = Math.max(0, Math.min(byteOffset, this.bytes.length));
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= off) lo = mid;
      else hi = mid - 1;
    }
    const column = this.bytes.toString("utf8", this.lineStarts[lo], off).length + 1;
    return { line: lo + 1, column };
  }

  /** Byte offset where 1-based line `n` starts. */
  lineStart(n: number): number {
    return this.lineStarts[n - 1] ?? this.bytes.length;
  }

  slice(startByte: number, endByte: number): string {
    return this.bytes.toString("utf8", startByte, endByte);
  }

  /**
   * Whether 1-based line `n` may start with `--` once trimmed: false only where it certainly does not
   * (it is blank, or an ASCII character other than `-` comes first), found without making a string of
   * the line. A line that starts with other bytes (Unicode blanks among them) may; read it to know.
   */
  mayStartWithDashes(n: number): boolean {
    const start = this.lineStarts[n - 1];
    if (start === undefined) return false;
    const end = n < this.lineStarts.length ? this.lineStarts[n] : this.bytes.length;
    let i = start;
    while (i < end && (this.bytes[i] === 0x20 || (this.bytes[i] >= 0x09 && this.bytes[i] <= 0x0d))) i++;
    if (i >= end) return false;
    return this.bytes[i] >= 0x80 || (this.bytes[i] === 0x2d && i + 1 < end && this.bytes[i + 1] === 0x2d);
  }

  line(n: number): string {
    const start = this.lineStarts[n - 1];
    const end = n < this.lineStarts.length ? this.lineStarts[n] - 1 : this.bytes.length;
    return start === undefined ? "" : this.bytes.toString("utf8", start, end).replace(/\r$/, "");
  }
}
