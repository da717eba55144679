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

interface StoredHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

/**
 * A stored hash read as data, or null when it is not one this app could have made: scrypt with at
 * most the 128 MiB setting's work (N·r·p ≤ 2^20) and a key of at least 16 bytes. A row written by
 * someone else (the store's role may be hostile) can't make a sign-in run for hours, or match any
 * password with an empty key.
 */
function readHash(stored: string): StoredHash | null {
  const [scheme, n, r, p, salt, key] = stored.split("$");
  const [N, R, P] = [Number(n), Number(r), Number(p)];
  if (scheme !== "scrypt" || !salt || !key) return null;
  if (![N, R, P].every(Number.isSafeInteger) || N < 2 || (N & (N - 1)) !== 0 || R < 1 || P < 1) return null;
  if (N > 2 ** 17 || R > 8 || N * R * P > 2 ** 20) return null;
  const keyBytes = Buffer.from(key, "base64");
  if (keyBytes.length < 16) return null;
  return { N, r: R, p: P, salt: Buffer.from(salt, "base64"), key: keyBytes };
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const hash = readHash(stored);
  if (!hash) return false;
  const actual = await scrypt(password, hash.salt, hash.key.length, { N: hash.N, r: hash.r, p: hash.p, maxmem: MAXMEM });
  return timingSafeEqual(actual, hash.key);
}

/** True when a stored hash was made with other parameters than today's: re-hash it at the next sign-in. */
export function needsRehash(stored: string): boolean {
  const hash = readHash(stored);
  return !hash || hash.N !== PARAMS.N || hash.r !== PARAMS.r || hash.p !== PARAMS.p;
}

// No password at all (a random salt and key), checked with a real hash's parameters.
const NOBODY = { salt: randomBytes(16).toString("base64"), key: randomBytes(PARAMS.keylen).toString("base64") };

/**
 * Spends a real password check's time and answers no: for unknown and disabled logins. `like` is a
 * real user's stored hash, whose parameters it is checked with: until every user has signed in since
 * the parameters changed, stored hashes cost different times, and a check at today's cost alone would
 * tell which logins exist by how long a wrong password takes.
 */
export async function verifyNobody(password: string, like?: string): Promise<false> {
  const real = like ? readHash(like) : null;
  const { N, r, p } = real ?? PARAMS;
  await verifyPassword(password, ["scrypt", N, r, p, NOBODY.salt, NOBODY.key].join("$"));
  return false;
}

/** A random password a person can type: 20 characters from an unambiguous alphabet (~114 bits). */
export function generatePassword(): string {
  const alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  const bytes = randomBytes(20);
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}
