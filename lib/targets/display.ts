/**
 * The one way a target's connection URL reaches a page, an API response, an event, a log line or an
 * error message: as host, port, database and user, never with a secret in any of the forms libpq and
 * node-postgres accept — `user:password@`, `?password=`, `?sslpassword=` (the client key's
 * passphrase), or `?passfile=` (whose path names where the passwords are).
 */

import type { TargetConfig } from "./config";
import { targetUrl } from "./urls";

/** Query parameters whose values are secrets, or say where secrets are kept. */
export const SECRET_PARAMETERS = ["password", "sslpassword", "passfile"] as const;

export interface ConnectionSummary {
  host: string;
  port: string;
  database: string;
  user: string;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The parts of a URL that may be shown; null for a URL that does not parse. */
export function connectionParts(url: string): ConnectionSummary | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  const q = u.searchParams;
  return {
    // ?host= and ?port= override the authority, as in libpq (a Unix socket directory, say).
    host: q.get("host") ?? decode(u.hostname) ?? "",
    port: q.get("port") ?? (u.port || "5432"),
    database: q.get("dbname") ?? decode(u.pathname.replace(/^\//, "")),
    user: q.get("user") ?? decode(u.username),
  };
}

/** `user@host:port/database`, the form every page shows. */
export function connectionSummary(url: string): string {
  const p = connectionParts(url);
  if (!p) return "(unparseable connection URL)";
  return `${p.user ? `${p.user}@` : ""}${p.host || "localhost"}:${p.port}/${p.database}`;
}

/** Every secret value in the URL, as written and decoded (a driver may repeat either). */
function secretsOf(url: string): string[] {
  const found = new Set<string>();
  let u: URL | null = null;
  try {
    u = new URL(url);
  } catch {
    // An unparseable URL may still be repeated whole in an error; it goes below with the rest.
  }
  if (u) {
    if (u.password) found.add(u.password).add(decode(u.password));
    for (const name of SECRET_PARAMETERS) {
      for (const value of u.searchParams.getAll(name)) if (value) found.add(value).add(encodeURIComponent(value));
    }
  }
  found.add(url);
  // Longest first, so a secret that contains another is replaced whole.
  return [...found].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
}

/** `text` with every secret of `url` (and the URL itself) replaced by `*****`. */
export function redactConnectionSecrets(text: string, url: string): string {
  let out = text;
  for (const secret of secretsOf(url)) out = out.split(secret).join(secret === url ? connectionSummary(url) : "*****");
  return out;
}

/** `text` without the secrets of a target's URL (as it is now: urlEnv is read again). */
export function redactTargetSecrets(text: string, target: TargetConfig): string {
  let url: string;
  try {
    url = targetUrl(target);
  } catch {
    return text; // no URL, so nothing of it can be in the text
  }
  return redactConnectionSecrets(text, url);
}

/** The same error with its message redacted, for rethrowing from a connect. */
export function withoutSecrets<E>(err: E, url: string): E {
  if (err instanceof Error) err.message = redactConnectionSecrets(err.message, url);
  return err;
}
