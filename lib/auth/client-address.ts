import { isIP } from "node:net";

/**
 * INDEXDECK_TRUSTED_PROXIES: how many reverse proxies in front of the app append to X-Forwarded-For
 * (default 0: clients reach the app directly).
 */
export function trustedProxies(env: Record<string, string | undefined> = process.env): number {
  const raw = env.INDEXDECK_TRUSTED_PROXIES;
  if (raw === undefined || raw === "") return 0;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 10)
    throw new Error(`INDEXDECK_TRUSTED_PROXIES must be a whole number from 0 to 10, got ${JSON.stringify(raw)}`);
  return n;
}

/** The header each app server worker fills with the TCP peer's address (lib/serve/peer-address.mjs). */
export const PEER_HEADER = "x-indexdeck-peer";

/**
 * The caller's address for login limits, or null when it can't be known. Next.js passes a client's
 * own X-Forwarded-For through untouched (it fills the header from the socket only when it is
 * missing), so without a proxy that header is whatever the client wrote: trusting it would let a
 * guesser pick a new address per request. Behind `proxies` proxies that each append the address they
 * saw, the entry that many from the right is the one the nearest proxy saw; entries left of it are
 * again the client's own writing. With no proxy, the TCP peer's address comes from `peerHeader`, which
 * `npm start` sets in each worker's environment only when its preload overwrites that header on every
 * request; a server started another way (`next dev`) has none, and the address stays unknown.
 */
export function clientAddress(
  headers: Record<string, string | string[] | undefined>,
  proxies: number,
  peerHeader = process.env.INDEXDECK_PEER_HEADER,
): string | null {
  if (proxies === 0) return peerHeader ? address(headers[peerHeader]) : null;
  const header = headers["x-forwarded-for"];
  const entries = (Array.isArray(header) ? header.join(",") : (header ?? ""))
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean);
  return address(entries[entries.length - proxies]);
}

function address(entry: string | string[] | undefined): string | null {
  if (typeof entry !== "string" || !entry) return null;
  const plain = entry.startsWith("::ffff:") && isIP(entry.slice(7)) === 4 ? entry.slice(7) : entry;
  return isIP(plain) ? plain : null;
}
