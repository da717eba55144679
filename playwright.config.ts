import { defineConfig } from "@playwright/test";

const PORT = Number(process.env.E2E_PORT ?? 3100);
// e2e/webhooks.spec.ts listens here (when it wants to) for the demo's webhook.
const WEBHOOK_PORT = PORT + 1000;
// Production's maintenance window: one minute on a day that is not today, so "outside the window" is certain.
const CLOSED_DAY = new Date().getUTCDay() === 0 ? "mon" : "sun";

export default defineConfig({
  testDir: "e2e",
  timeout: 60_000,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: `http://localhost:${PORT}`,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    },
    trace: "off",
  },
  webServer: {
    // The same launcher as `npm run demo`, on a fresh embedded database of its own.
    command: `rm -rf .indexdeck-e2e && node bin/demo.mjs --data-dir .indexdeck-e2e --rows 20000 --staging-rows 1000000 --prod-window "${CLOSED_DAY} 03:00-03:01 UTC" --port ${PORT} --logins-file .indexdeck-e2e/logins.json --webhook http://127.0.0.1:${WEBHOOK_PORT}/hook`,
    url: `http://localhost:${PORT}/login`,
    timeout: 240_000,
    reuseExistingServer: false,
    stdout: "pipe",
    env: {
      NEXT_TELEMETRY_DISABLED: "1",
      INDEXDECK_POLL_MS: "200",
      INDEXDECK_METRICS_TOKEN: "e2e-metrics-token",
      INDEXDECK_PROBE_SAMPLES: "60",
      INDEXDECK_COLLECT_INTERVAL_MS: "2000",
      INDEXDECK_WEBHOOK_BACKOFF_MS: "300",
    },
  },
});
