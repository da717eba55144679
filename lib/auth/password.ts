import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from "node:crypto";

function scrypt(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))));
}

// OWASP's Password Storage Cheat Sheet lists five scrypt settings as the same minimal defence, trading
// memory for passes: N = 2^17, r = 8, p = 1 (128 MiB) ... N = 2^13, r = 8, p = 10 (8 MiB). The 16 MiB one
// costs a sign-in ~0.18 s here where the 128 MiB one cost ~0.6 s (this machine's memory bandwidth is the
// limit), and a burst of checks holds an eighth of the memory; login throttling bounds how many queue.
const PARAMS = { N: 2 ** 14, r: 8, p: 5, keylen: 32 };
// Enough for the hashes of before (N = 2^17: 128 * N * r bytes), until their owners sign in again;
// node refuses to use exactly its maxmem.
const MAXMEM = 256 * 1024 * 1024;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, PARAMS.keylen, { N: PARAMS.N, r: PARAMS.r, p: PARAMS.p, maxmem: MAXMEM });
  return ["scrypt", PARAMS.N, PARAMS.r, PARAMS.p, salt.toString("base64"), key.toString("base64")].join("$");
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split("$");
  if (scheme !== "scrypt" || !salt || !key) return false;
  const expected = Buffer.from(key, "base64");
  const actual = await scrypt(password, Buffer.from(salt, "base64"), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: MAXMEM,
  });
  return timingSafeEqual(actual, expected);
}

/** True when a stored hash was made with other parameters than today's: re-hash it at the next sign-in. */
export function needsRehash(stored: string): boolean {
  const [scheme, n, r, p] = stored.split("$");
  return scheme !== "scrypt" || Number(n) !== PARAMS.N || Number(r) !== PARAMS.r || Number(p) !== PARAMS.p;
}

// A hash of no password at all (random salt and key): checking a login that doesn't exist against it
// costs the same scrypt as a real check, so the time taken doesn't tell which logins exist.
const NOBODY = [
  "scrypt",
  PARAMS.N,
  PARAMS.r,
  PARAMS.p,
  randomBytes(16).toString("base64"),
  randomBytes(PARAMS.keylen).toString("base64"),
].join("$");

/** Spends a real password check's time and answers no: for unknown and disabled logins. */
export async function verifyNobody(password: string): Promise<false> {
  await verifyPassword(password, NOBODY);
  return false;
}

/** A random password a person can type: 20 characters from an unambiguous alphabet (~114 bits). */
export function generatePassword(): string {
  const alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  const bytes = randomBytes(20);
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}
