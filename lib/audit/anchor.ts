import { appendFile, readFile } from "node:fs/promises";
import type pg from "pg";
import { checkpointMac, sameMac, type CheckpointFields } from "./key";
import { verifyAudit, type VerifyResult } from "./verify";

/**
 * A signed note of the chain's head, kept outside the store (a file on the app server, or wherever
 * the operator copies it: one JSON object per line). A superuser on the store can recompute every
 * SHA-256 link after an edit or a removal, but not the head a checkpoint saw, nor its MAC.
 */
export interface Checkpoint extends CheckpointFields {
  mac: string;
}

export class AnchorError extends Error {}

const HEX64 = /^[0-9a-f]{64}$/;

function parseLine(file: string, lineNo: number, line: string, key: Buffer): Checkpoint {
  const where = `${file}:${lineNo}`;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new AnchorError(`${where}: not a checkpoint (${(err as Error).message})`);
  }
  const c = value as Partial<Checkpoint> | null;
  if (
    !c ||
    !Number.isSafeInteger(c.id) ||
    c.id! < 1 ||
    typeof c.hash !== "string" ||
    !HEX64.test(c.hash) ||
    typeof c.at !== "string" ||
    !(c.keyedFrom === null || Number.isSafeInteger(c.keyedFrom)) ||
    typeof c.mac !== "string"
  ) {
    throw new AnchorError(`${where}: a checkpoint needs id (a row id), hash (64 hex digits), keyedFrom (a row id or null), at and mac`);
  }
  const checkpoint: Checkpoint = { id: c.id!, hash: c.hash, keyedFrom: c.keyedFrom ?? null, at: c.at, mac: c.mac };
  if (!sameMac(checkpoint.mac, checkpointMac(key, checkpoint))) {
    throw new AnchorError(
      `${where}: checkpoint of row ${checkpoint.id} is not signed with this INDEXDECK_AUDIT_KEY (edited, or another key)`,
    );
  }
  return checkpoint;
}

/** Every checkpoint of an anchor file, each checked against the key; a missing file has none when `missingOk`. */
export async function readAnchor(file: string, key: Buffer, missingOk = false): Promise<Checkpoint[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if (missingOk && (err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new AnchorError(`${file}: cannot read the anchor file (${(err as Error).message})`);
  }
  return text.split("\n").flatMap((line, i) => (line.trim() ? [parseLine(file, i + 1, line, key)] : []));
}

/** Appends a signed checkpoint of a verified head. One short line per append, so writers on one host don't interleave. */
export async function appendCheckpoint(
  file: string,
  key: Buffer,
  head: { id: number; hash: string; keyedFrom: number | null },
  at = new Date(),
): Promise<Checkpoint> {
  const fields: CheckpointFields = { id: head.id, hash: head.hash, keyedFrom: head.keyedFrom, at: at.toISOString() };
  const checkpoint: Checkpoint = { ...fields, mac: checkpointMac(key, fields) };
  await appendFile(file, `${JSON.stringify(checkpoint)}\n`, { mode: 0o600 });
  return checkpoint;
}

/**
 * Verifies the whole chain with the key and against the file's checkpoints, and only if it holds,
 * anchors its head there: a chain already rewritten is never anchored as if it were the truth.
 */
export async function checkpointAudit(
  db: Pick<pg.Pool, "connect">,
  file: string,
  key: Buffer,
): Promise<{ result: VerifyResult; checkpoint: Checkpoint | null }> {
  const anchor = await readAnchor(file, key, true);
  const result = await verifyAudit(db, null, { key, anchor });
  if (!result.ok || result.headId === null) return { result, checkpoint: null };
  const last = anchor[anchor.length - 1];
  if (last && last.id === result.headId && last.hash === result.headHash) return { result, checkpoint: last };
  return {
    result,
    checkpoint: await appendCheckpoint(file, key, { id: result.headId, hash: result.headHash!, keyedFrom: result.keyedFrom }),
  };
}
