import { describe, expect, it } from "vitest";
import { contentTypeRefusal, crossSiteRefusal, ownOrigin, readCappedJson, readCappedText } from "./guard";

const OWN = "http://localhost:3000";
const h = (init: Record<string, string>) => new Headers(init);

describe("cross-site requests", () => {
  it("accepts the app's own origin, and a request without Origin or Sec-Fetch-Site (a script, not a browser)", () => {
    expect(crossSiteRefusal(h({ origin: OWN }), OWN)).toBeNull();
    expect(crossSiteRefusal(h({ origin: `${OWN}/` }), OWN)).toBeNull();
    expect(crossSiteRefusal(h({ "sec-fetch-site": "same-origin" }), OWN)).toBeNull();
    expect(crossSiteRefusal(h({}), OWN)).toBeNull();
  });

  it("refuses another origin, a look-alike, the null origin, and a cross-site or same-site fetch without Origin", () => {
    for (const origin of [
      "http://evil.example",
      "http://localhost:3001",
      "https://localhost:3000",
      "http://localhost:3000.evil.example",
      "null",
    ]) {
      expect(crossSiteRefusal(h({ origin }), OWN)).toMatchObject({ status: 403, kind: "cross-site" });
    }
    for (const site of ["cross-site", "same-site", "none"]) {
      expect(crossSiteRefusal(h({ "sec-fetch-site": site }), OWN)).toMatchObject({ status: 403, kind: "cross-site" });
    }
    // Origin decides when both are present: a forged page cannot set either.
    expect(crossSiteRefusal(h({ origin: "http://evil.example", "sec-fetch-site": "same-origin" }), OWN)).toMatchObject({ status: 403 });
  });

  it("takes the app's origin from NEXTAUTH_URL, and from the request only when that is unset", () => {
    expect(ownOrigin("http://internal:3000/api/x", "https://indexdeck.example.com/")).toBe("https://indexdeck.example.com");
    expect(ownOrigin("http://localhost:3100/api/x", "")).toBe("http://localhost:3100");
  });
});

describe("request bodies", () => {
  it("accepts only application/json, with or without parameters", () => {
    expect(contentTypeRefusal(h({ "content-type": "application/json" }))).toBeNull();
    expect(contentTypeRefusal(h({ "content-type": "Application/JSON; charset=utf-8" }))).toBeNull();
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx"]) {
      expect(contentTypeRefusal(h({ "content-type": type }))).toMatchObject({ status: 415, kind: "content-type" });
    }
    expect(contentTypeRefusal(h({}))?.error).toBe("the body must be application/json, not undeclared");
  });

  it("refuses a declared size over the limit before reading anything", async () => {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>(
      {
        pull(c) {
          pulled++;
          c.enqueue(new Uint8Array(1024));
        },
      },
      { highWaterMark: 0 },
    );
    const request = new Request("http://x/", {
      method: "POST",
      body,
      headers: { "content-length": String(1024 * 1024) },
      duplex: "half",
    } as RequestInit);
    expect(await readCappedText(request, 64 * 1024)).toMatchObject({ status: 413, kind: "too-large" });
    expect(pulled).toBe(0);
  });

  it("stops reading an undeclared (chunked) body at the first chunk past the limit", async () => {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>(
      {
        pull(c) {
          pulled++;
          c.enqueue(new Uint8Array(16 * 1024));
        },
      },
      { highWaterMark: 0 },
    ); // endless
    const request = new Request("http://x/", { method: "POST", body, duplex: "half" } as RequestInit);
    expect(await readCappedText(request, 64 * 1024)).toMatchObject({
      status: 413,
      error: "request body over the 64 KiB limit of this route",
    });
    expect(pulled).toBe(5); // the fifth chunk crosses 64 KiB
  });

  it("parses JSON up to the limit, says when it isn't JSON, and treats an empty body as none", async () => {
    const post = (body: string) => new Request("http://x/", { method: "POST", body });
    expect(await readCappedJson(post(JSON.stringify({ a: "é".repeat(10) })), 1024)).toEqual({ body: { a: "é".repeat(10) } });
    expect(await readCappedJson(post('{"password": "hunter2"'), 1024)).toEqual({
      status: 400,
      kind: "malformed",
      error: "the body is not valid JSON",
    });
    expect(await readCappedJson(post(""), 1024)).toEqual({ body: undefined });
    expect(await readCappedJson(post("x".repeat(1025)), 1024)).toMatchObject({ status: 413 });
  });
});
