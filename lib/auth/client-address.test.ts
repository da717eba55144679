import { describe, expect, it } from "vitest";
import { clientAddress, PEER_HEADER, trustedProxies } from "./client-address";

describe("the client address login limits are counted by", () => {
  it("is unknown without a trusted proxy or a peer header: X-Forwarded-For is whatever the client wrote", () => {
    expect(clientAddress({ "x-forwarded-for": "198.51.100.7" }, 0, undefined)).toBeNull();
    expect(clientAddress({}, 0, undefined)).toBeNull();
  });

  it("is the TCP peer's address from the worker's peer header when no proxy is declared, never X-Forwarded-For", () => {
    expect(clientAddress({ [PEER_HEADER]: "127.0.0.1", "x-forwarded-for": "198.51.100.7" }, 0, PEER_HEADER)).toBe("127.0.0.1");
    expect(clientAddress({ [PEER_HEADER]: "::ffff:192.0.2.4" }, 0, PEER_HEADER)).toBe("192.0.2.4");
    expect(clientAddress({ [PEER_HEADER]: "" }, 0, PEER_HEADER)).toBeNull();
    // Behind declared proxies the peer is the proxy: X-Forwarded-For decides.
    expect(clientAddress({ [PEER_HEADER]: "10.0.0.2", "x-forwarded-for": "198.51.100.7" }, 1, PEER_HEADER)).toBe("198.51.100.7");
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
    expect(() => trustedProxies({ INDEXDECK_TRUSTED_PROXIES: "yes" })).toThrow(
      /INDEXDECK_TRUSTED_PROXIES must be a whole number from 0 to 10, got "yes"/,
    );
  });
});
