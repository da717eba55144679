import { describe, expect, it } from "vitest";
import { clientAddress, trustedProxies } from "./client-address";

describe("the client address login limits are counted by", () => {
  it("is unknown without a trusted proxy: X-Forwarded-For is whatever the client wrote", () => {
    expect(clientAddress({ "x-forwarded-for": "198.51.100.7" }, 0)).toBeNull();
    expect(clientAddress({}, 0)).toBeNull();
  });

  it("is the address the nearest trusted proxy saw, whatever the client put in front of it", () => {
    expect(clientAddress({ "x-forwarded-for": "198.51.100.7" }, 1)).toBe("198.51.100.7");
    expect(clientAddress({ "x-forwarded-for": "1.2.3.4, 198.51.100.7" }, 1)).toBe("198.51.100.7");
    expect(clientAddress({ "x-forwarded-for": "1.2.3.4, 198.51.100.7, 10.0.0.2" }, 2)).toBe("198.51.100.7");
    expect(clientAddress({ "x-forwarded-for": "::ffff:198.51.100.7" }, 1)).toBe("198.51.100.7");
    expect(clientAddress({ "x-forwarded-for": "2001:db8::1" }, 1)).toBe("2001:db8::1");
  });

  it("is unknown when the header is missing, too short for the proxies or not an address", () => {
    expect(clientAddress({}, 1)).toBeNull();
    expect(clientAddress({ "x-forwarded-for": "198.51.100.7" }, 2)).toBeNull();
    expect(clientAddress({ "x-forwarded-for": "evil.example" }, 1)).toBeNull();
  });

  it("reads INDEXDECK_TRUSTED_PROXIES (default 0) and names it when it is wrong", () => {
    expect(trustedProxies({})).toBe(0);
    expect(trustedProxies({ INDEXDECK_TRUSTED_PROXIES: "1" })).toBe(1);
    expect(() => trustedProxies({ INDEXDECK_TRUSTED_PROXIES: "yes" })).toThrow(/INDEXDECK_TRUSTED_PROXIES must be a whole number from 0 to 10, got "yes"/);
  });
});
