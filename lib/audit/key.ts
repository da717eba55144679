import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * The key audit rows are signed with. It lives in the app servers' environment (and with whoever
 * checks the log from outside), never in the store: a superuser on the store can rewrite rows and
 * recompute SHA-256 links, but cannot sign what they wrote.
 */
export const AUDIT_KEY_ENV = "INDEXDECK_AUDIT_KEY";
const MIN_KEY_LENGTH = 32;

export class AuditKeyError extends Error {}

/** The key from the environment, or null when none is set; a key too short to resist guessing is an error. */
export function auditKeyOrNull(env: NodeJS.ProcessEnv = process.env): Buffer | null {
  const value = env[AUDIT_KEY_ENV];
  if (value === undefined || value === "") return null;
  if (value.length < MIN_KEY_LENGTH) {
    throw new AuditKeyError(
      `${AUDIT_KEY_ENV} must be at least ${MIN_KEY_LENGTH} characters (it is ${value.length}); e.g. openssl rand -base64 32`,
    );
  }
  return Buffer.from(value, "utf8");
}

let cached: { value: string; key: Buffer } | null = null;

/** The key, for code that writes audit rows: without it nothing may be recorded (the row could not be checked later). */
export function requireAuditKey(env: NodeJS.ProcessEnv = process.env): Buffer {
  // Read per append, so a test or a restarted process with another key is never signed with a stale one.
  const value = env[AUDIT_KEY_ENV];
  if (cached && value === cached.value) return cached.key;
  const key = auditKeyOrNull(env);
  if (!key)
    throw new AuditKeyError(
      `${AUDIT_KEY_ENV} is not set: audit rows are signed with it (any random string of ${MIN_KEY_LENGTH}+ characters, the same on every app server; npm run demo makes one in .indexdeck/)`,
    );
  cached = { value: value!, key };
  return key;
}

// Each use of the key signs its own kind of message, so a row's MAC can never pass as a checkpoint's.
const ROW = "indexdeck-audit-row:";
const CHECKPOINT = "indexdeck-audit-checkpoint:";

/** A row's MAC: over its content hash, which covers every field the row states. */
export function rowMac(key: Buffer, contentHash: string): string {
  return createHmac("sha256", key)
    .update(ROW + contentHash)
    .digest("hex");
}

export interface CheckpointFields {
  /** The chain's head when the checkpoint was written. */
  id: number;
  hash: string;
  /** The first signed (scheme 3) row then: every row from it on must be signed. Null if none was. */
  keyedFrom: number | null;
  at: string;
}

export function checkpointMac(key: Buffer, c: CheckpointFields): string {
  return createHmac("sha256", key)
    .update(`${CHECKPOINT}${c.id}:${c.hash}:${c.keyedFrom ?? ""}:${c.at}`)
    .digest("hex");
}

/** Compares two hex MACs in constant time (a mismatch is the expected outcome of a forgery attempt). */
export function sameMac(a: string | null | undefined, b: string): boolean {
  if (typeof a !== "string" || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}
