import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";

export class InputError extends Error {}

const MAX_FILE_BYTES = 64 * 1024 * 1024;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Decodes change-set bytes, refusing binary and non-UTF-8 input with the offending byte named. */
export function decodeChangeSet(file: string, bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new InputError(`${file}: binary data (NUL byte at offset ${nul}); a change set is UTF-8 SQL text`);
  try {
    return utf8.decode(bytes).replace(/^\uFEFF/, "");
  } catch {
    throw new InputError(`${file}: not valid UTF-8 (byte offset ${firstInvalidUtf8(bytes)}); save the file as UTF-8`);
  }
}

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence. */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    const len = c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4 : 0;
    if (len === 0) return i;
    for (let k = 1; k < len; k++) if (i + k >= b.length || (b[i + k] & 0xc0) !== 0x80) return i;
    i += len;
  }
  return b.length;
}

/** Expands files and directories (recursively, *.sql, sorted) into change-set texts. */
export async function readChangeSets(paths: string[]): Promise<Array<{ file: string; text: string }>> {
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
    if (info.size > MAX_FILE_BYTES) throw new InputError(`${file}: ${info.size} bytes is over the ${MAX_FILE_BYTES / 1048576} MB limit`);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (err) {
      throw new InputError(`${file}: cannot read: ${(err as Error).message}`);
    }
    out.push({ file, text: decodeChangeSet(file, bytes) });
  }
  return out;
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
