/**
 * web/ — framework-free rules for HTTP requests (cross-site refusal, limits, headers), kept out of
 * app/ so they are tested as they are.
 *
 * What a state-changing request must show before a route handler acts on it, decided from headers
 * only (framework-free, so both the route handlers and the tests use it as it is).
 *
 * Cross-site: a browser sends `Origin` with every POST and `Sec-Fetch-Site` with every request, so a
 * request carrying either is judged by it; one carrying neither comes from a script (curl, fetch in
 * Node, the benchmarks), which holds no victim's cookie a forged page could borrow, and is let through.
 * Requiring `application/json` on top means a cross-origin browser request cannot even be sent
 * without a CORS preflight, which nothing here answers.
 */

export type RefusalKind = "cross-site" | "content-type" | "too-large" | "malformed";

export interface Refusal {
  status: 400 | 403 | 413 | 415;
  kind: RefusalKind;
  error: string;
}

/** Request bodies beyond these are refused with 413 without being read. */
export const BODY_LIMIT_BYTES = 64 * 1024;

/**
 * The app's own origin: the public URL in NEXTAUTH_URL, which next-auth already uses for its
 * redirects and cookies and which the server refuses to start without; behind a proxy the Host a
 * handler sees may be an internal name. Only where it is unset (a dev server) the request's own URL,
 * that is its Host header, stands in.
 */
export function ownOrigin(requestUrl: string, nextauthUrl = process.env.NEXTAUTH_URL): string {
  return new URL(nextauthUrl || requestUrl).origin;
}

function originOf(value: string): string | null {
  try {
    return new URL(value).origin;
  } catch {
    return null;
  }
}

/** 403 when a browser says the request comes from another site than `own`. */
export function crossSiteRefusal(headers: Headers, own: string): Refusal | null {
  const origin = headers.get("origin");
  if (origin !== null) {
    // "null" (a sandboxed frame, a file: page) has no origin to trust.
    if (originOf(origin) === own) return null;
    return { status: 403, kind: "cross-site", error: `cross-site request refused: Origin ${origin.slice(0, 200)} is not ${own}` };
  }
  const site = headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin") {
    return {
      status: 403,
      kind: "cross-site",
      error: `cross-site request refused: Sec-Fetch-Site is ${site.slice(0, 50)}, not same-origin`,
    };
  }
  return null;
}

/** The media type of a Content-Type header: before any parameter, without case. */
export function mediaType(contentType: string | null): string | null {
  if (contentType === null) return null;
  return contentType.split(";", 1)[0].trim().toLowerCase();
}

/** 415 unless the body is declared as JSON (a form or text/plain body is what a cross-site form sends). */
export function contentTypeRefusal(headers: Headers): Refusal | null {
  const type = mediaType(headers.get("content-type"));
  if (type === "application/json") return null;
  return { status: 415, kind: "content-type", error: `the body must be application/json, not ${type ?? "undeclared"}` };
}

function tooLarge(limit: number): Refusal {
  return { status: 413, kind: "too-large", error: `request body over the ${limit / 1024} KiB limit of this route` };
}

/** 413 when the declared Content-Length is already over the limit: then nothing is read at all. */
export function declaredSizeRefusal(headers: Headers, limit: number): Refusal | null {
  const declared = headers.get("content-length");
  if (declared !== null && Number(declared) > limit) return tooLarge(limit);
  return null;
}

/**
 * The body as text, reading no more than `limit` bytes: a chunked or lying body is cut off at the
 * first chunk past the limit and the rest is never read.
 */
export async function readCappedText(request: Request, limit: number): Promise<string | Refusal> {
  const declared = declaredSizeRefusal(request.headers, limit);
  if (declared) return declared;
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return tooLarge(limit);
    }
    chunks.push(value);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    return { status: 400, kind: "malformed", error: "the body is not valid UTF-8" };
  }
}

/** The body parsed as JSON (undefined when empty), or why not. */
export async function readCappedJson(request: Request, limit: number): Promise<{ body: unknown } | Refusal> {
  const text = await readCappedText(request, limit);
  if (typeof text !== "string") return text;
  if (text.trim() === "") return { body: undefined };
  try {
    return { body: JSON.parse(text) };
  } catch {
    // Not the parser's message: it quotes the body back.
    return { status: 400, kind: "malformed", error: "the body is not valid JSON" };
  }
}
