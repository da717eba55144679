#!/usr/bin/env node
// npm start [-- -p 3000]: the built app, one `next start` worker per core (INDEXDECK_WORKERS to set).
import { fileURLToPath } from "node:url";
import { tsImport } from "tsx/esm/api";

process.env.NEXT_TELEMETRY_DISABLED = "1";
const { superviseWorkers, workersFromEnv, WorkersSettingError } = await tsImport("../lib/serve/workers.ts", import.meta.url);
let workers;
try {
  workers = workersFromEnv();
} catch (err) {
  if (!(err instanceof WorkersSettingError)) throw err;
  console.error(`indexdeck: ${err.message}`);
  process.exit(2);
}
superviseWorkers({
  exec: fileURLToPath(new URL("../node_modules/next/dist/bin/next", import.meta.url)),
  args: ["start", ...process.argv.slice(2)],
  workers,
});
