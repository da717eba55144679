import { describe, expect, it } from "vitest";
import { hsts, newNonce, pageCsp, usesHttps } from "./headers";

describe("security headers", () => {
  it("let a page run only scripts carrying its nonce, and nothing frame it", () => {
    const csp = pageCsp("abc123");
    expect(csp).toContain("script-src 'self' 'nonce-abc123' 'strict-dynamic'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-(inline|eval)'/);
    expect(pageCsp("x", true)).toContain("'unsafe-eval'"); // React's dev build only
  });

  it("send HSTS and Secure cookies only when the public URL is https", () => {
    expect(hsts("https://indexdeck.example.com")).toBe("max-age=31536000");
    expect(hsts("http://localhost:3000")).toBeNull();
    expect(hsts(undefined)).toBeNull();
    expect(usesHttps("https://indexdeck.example.com/")).toBe(true);
    expect(usesHttps("http://localhost:3000")).toBe(false);
  });

  it("make a new nonce every time", () => {
    const nonces = new Set(Array.from({ length: 100 }, newNonce));
    expect(nonces.size).toBe(100);
    expect([...nonces][0]).toMatch(/^[A-Za-z0-9+/]{22}==$/);
  });
});
