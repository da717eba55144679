import { isUtf8 } from "node:buffer";
import { open, readdir, stat } from "node:fs/promises";
import path from "node:path";

export class InputError extends Error {}

const MAX_FILE_BYTES = 64 * 1024 * 1024;
// Leading byte order marks are checked for and dropped by checkChangeSet, never by the decoder.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const BOM = [0xef, 0xbb, 0xbf];

/**
 * Change-set bytes as SQL: binary and non-UTF-8 input refused with the offending byte named, and up
 * to two leading byte order marks dropped (as the text they decode to always had them).
 */
export function checkChangeSet(file: string, bytes: Uint8Array): Uint8Array {
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new InputError(`${file}: binary data (NUL byte at offset ${nul}); a change set is UTF-8 SQL text`);
  if (!isUtf8(bytes)) throw new InputError(`${file}: not valid UTF-8 (byte offset ${firstInvalidUtf8(bytes)}); save the file as UTF-8`);
  let start = 0;
  while (start < 6 && BOM.every((b, k) => bytes[start + k] === b)) start += 3;
  return bytes.subarray(start);
}

/** Decodes change-set bytes (see checkChangeSet). */
export function decodeChangeSet(file: string, bytes: Uint8Array): string {
  return utf8.decode(checkChangeSet(file, bytes));
}

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence. */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    const len = c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4 : 0;
    if (len === 0) return i;
    // The second byte's range is narrower after these leads: no overlong forms, surrogates or code points past U+10FFFF.
    const [lo, hi] =
      c === 0xe0 ? [0xa0, 0xbf] : c === 0xed ? [0x80, 0x9f] : c === 0xf0 ? [0x90, 0xbf] : c === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
    if (len > 1 && !(b[i + 1] >= lo && b[i + 1] <= hi)) return i;
    for (let k = 2; k < len; k++) if (i + k >= b.length || (b[i + k] & 0xc0) !== 0x80) return i;
    i += len;
  }
  return b.length;
}

/**
 * Expands files and directories (recursively, *.sql, sorted) into change sets, each as its checked
 * UTF-8 bytes (checkChangeSet): a long file is never also held as a string. The bytes are in shared
 * memory, where a thread that parses ahead (parse-ahead.ts) reads them without a copy.
 */
export async function readChangeSets(paths: string[]): Promise<Array<{ file: string; text: Uint8Array }>> {
  const files: string[] = [];
  for (const p of paths) {
    let info;
    try {
      info = await stat(p);
    } catch {
      throw new InputError(`${p}: no such file or directory`);
    }
    if (info.isDirectory()) files.push(...(await sqlFilesUnder(p)));
    else files.push(p);
  }
  const out = [];
  for (const file of files) {
    const info = await stat(file);
    if (info.size > MAX_FILE_BYTES) throw overLimit(file, info.size);
    let bytes: Uint8Array;
    try {
      bytes = await readShared(file, info.size);
    } catch (err) {
      if (err instanceof InputError) throw err;
      throw new InputError(`${file}: cannot read: ${(err as Error).message}`);
    }
    out.push({ file, text: checkChangeSet(file, bytes) });
  }
  return out;
}

/** `bytes`: its size, or what a pipe had sent when it went past the limit. */
const overLimit = (file: string, bytes: number) =>
  new InputError(`${file}: ${bytes} bytes is over the ${MAX_FILE_BYTES / 1048576} MB limit`);

/**
 * A file's bytes in a SharedArrayBuffer of `size` (what stat said). One that grew meanwhile, or a pipe,
 * is read to its end, up to MAX_FILE_BYTES.
 */
async function readShared(file: string, size: number): Promise<Uint8Array> {
  const handle = await open(file);
  try {
    let bytes = new Uint8Array(new SharedArrayBuffer(size));
    let used = 0;
    for (;;) {
      if (used < bytes.length) {
        const { bytesRead } = await handle.read(bytes, used, bytes.length - used, null);
        if (bytesRead === 0) return bytes.subarray(0, used);
        used += bytesRead;
        continue;
      }
      // Full: a small read says whether there is more, so a file of the size stat said is read once, into one buffer.
      const more = Buffer.alloc(64 * 1024);
      const { bytesRead } = await handle.read(more, 0, more.length, null);
      if (bytesRead === 0) return bytes;
      if (used + bytesRead > MAX_FILE_BYTES) throw overLimit(file, used + bytesRead);
      const grown = new Uint8Array(new SharedArrayBuffer(Math.min(MAX_FILE_BYTES, Math.max(2 * bytes.length, used + bytesRead))));
      grown.set(bytes);
      grown.set(more.subarray(0, bytesRead), used);
      [bytes, used] = [grown, used + bytesRead];
    }
  } finally {
    await handle.close();
  }
}

async function sqlFilesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const found: string[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) found.push(...(await sqlFilesUnder(full)));
    else if (e.isFile() && e.name.endsWith(".sql")) found.push(full);
  }
  return found;
}
