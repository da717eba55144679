import { execFileSync } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkChangeSet, decodeChangeSet, InputError, readChangeSets } from "./files";
import { Source } from "./source";

const BOM = [0xef, 0xbb, 0xbf];
const sql = Buffer.from("CREATE INDEX CONCURRENTLY idx_é ON t (a);\n");

describe("change-set files", () => {
  it("reads each file as its checked bytes, in shared memory, with leading byte order marks dropped as decoding does", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "indexdeck-files-"));
    await writeFile(path.join(dir, "a.sql"), Buffer.from([...BOM, ...sql]));
    await writeFile(path.join(dir, "b.sql"), Buffer.from([...BOM, ...BOM, ...sql]));
    await writeFile(path.join(dir, "c.sql"), Buffer.from([...BOM, ...BOM, ...BOM, ...sql]));
    const read = await readChangeSets([dir]);
    expect(read.map((r) => path.basename(r.file))).toEqual(["a.sql", "b.sql", "c.sql"]);
    for (const { file, text } of read) {
      expect(text.buffer).toBeInstanceOf(SharedArrayBuffer);
      // The bytes say what the text decodeChangeSet gives says, and a Source of either is the same.
      const decoded = decodeChangeSet(
        file,
        new Uint8Array([...(file.endsWith("c.sql") ? [...BOM, ...BOM, ...BOM] : file.endsWith("b.sql") ? [...BOM, ...BOM] : BOM), ...sql]),
      );
      expect(Buffer.from(text).toString("utf8")).toBe(decoded);
      expect(new Source(file, text).bytes.equals(new Source(file, decoded).bytes)).toBe(true);
    }
    expect(Buffer.from(read[0].text).equals(sql)).toBe(true);
    // A third mark is text, as it was: U+FEFF before the SQL.
    expect(Buffer.from(read[2].text).subarray(0, 3)).toEqual(Buffer.from(BOM));
  });

  it("reads a pipe, whose size stat can't say, to its end", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "indexdeck-files-"));
    const fifo = path.join(dir, "piped.sql");
    execFileSync("mkfifo", [fifo]);
    const sent = Buffer.from("SELECT 1;\n".repeat(30_000));
    const writing = writeFile(fifo, sent);
    const [read] = await readChangeSets([fifo]);
    await writing;
    expect(Buffer.from(read.text).equals(sent)).toBe(true);
  });

  it("refuses binary and non-UTF-8 bytes, naming the file and the offset", () => {
    expect(() => checkChangeSet("x.sql", Buffer.from([0x53, 0x00, 0x45]))).toThrow(
      new InputError("x.sql: binary data (NUL byte at offset 1); a change set is UTF-8 SQL text"),
    );
    expect(() => checkChangeSet("y.sql", Buffer.from([0x53, 0x45, 0xc3, 0x28]))).toThrow(
      new InputError("y.sql: not valid UTF-8 (byte offset 2); save the file as UTF-8"),
    );
    // A surrogate or an overlong form is not UTF-8 either: the offset is where it starts.
    expect(() => checkChangeSet("z.sql", Buffer.from([0x41, 0xed, 0xa0, 0x80]))).toThrow(/byte offset 1\)/);
    expect(() => checkChangeSet("o.sql", Buffer.from([0x41, 0x42, 0xe0, 0x80, 0x80]))).toThrow(/byte offset 2\)/);
    expect(() => checkChangeSet("p.sql", Buffer.from([0xf4, 0x90, 0x80, 0x80]))).toThrow(/byte offset 0\)/);
  });
});
