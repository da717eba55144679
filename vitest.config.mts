import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { alias: { "@": import.meta.dirname } },
  test: {
    include: ["lib/**/*.test.ts", "bin/**/*.test.ts"],
    globalSetup: ["./lib/testing/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Audit rows are signed with this (lib/audit/key.ts); a test key, known to everyone, signs test stores only.
    env: { INDEXDECK_AUDIT_KEY: "indexdeck-test-audit-key-not-a-secret-0123" },
  },
});
