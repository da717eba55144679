import { chmod, open } from "node:fs/promises";

/** Owner read/write only: these files hold passwords (the embedded superuser's, the target role's). */
const PRIVATE = 0o600;

/**
 * Writes a file only its owner may read. A new file is created 0600; an existing one is emptied and
 * tightened through the same open handle before the new content goes in, so the secret is never
 * written into a file others can read, and no rename or second path lookup leaves a gap.
 */
export async function writePrivateFile(file: string, text: string): Promise<void> {
  const handle = await open(file, "w", PRIVATE);
  try {
    await handle.chmod(PRIVATE);
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
}

/** Tightens a file an earlier version wrote readable by others; nothing to do if it does not exist. */
export async function tightenIfPresent(file: string): Promise<void> {
  await chmod(file, PRIVATE).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "ENOENT") throw err;
  });
}
