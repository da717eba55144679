/**
 * The security headers of every response, decided in one place (proxy.ts sets them; next.config.js
 * adds the static ones to what the proxy never sees, such as /_next/static).
 */

/** Static for every response, whatever it is. */
export const STATIC_SECURITY_HEADERS: Record<string, string> = {
  "X-Content-Type-Options": "nosniff",
  // The full URL (a rollout id, a search) never leaves for another site; same-origin links keep it.
  "Referrer-Policy": "same-origin",
  // For browsers without CSP frame-ancestors.
  "X-Frame-Options": "DENY",
};

/**
 * A page's policy. Scripts run only with this response's nonce (Next.js puts it on its own inline
 * and bundle scripts) or when loaded by such a script ('strict-dynamic'), so injected markup can't
 * run any; there is no 'unsafe-inline' or 'unsafe-eval' for scripts. Style elements need the nonce
 * too; style attributes are allowed ('unsafe-inline' in style-src-attr only), since React renders
 * them and they cannot run code. Nothing may be framed, embedded or posted elsewhere.
 */
export function pageCsp(nonce: string, dev = false): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ""}`,
    `style-src 'self' 'nonce-${nonce}'`,
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** An API response is data, never a document: it may load nothing and be framed nowhere. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'";

/**
 * HSTS only when the app's public URL is https: over plain http a browser ignores it, and sending it
 * from a server reached over http would only mislead. One year, subdomains excluded (they may be
 * other people's).
 */
export function hsts(publicUrl = process.env.NEXTAUTH_URL): string | null {
  return usesHttps(publicUrl) ? "max-age=31536000" : null;
}

/** Whether the app is served over https, as its public URL says (also: next-auth's Secure cookies). */
export function usesHttps(publicUrl = process.env.NEXTAUTH_URL): boolean {
  try {
    return new URL(publicUrl ?? "").protocol === "https:";
  } catch {
    return false;
  }
}

/** A fresh nonce per response: 16 random bytes, base64. */
export function newNonce(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
}
