import { execFile } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { promisify } from "node:util";
import { expect, test } from "./helpers";

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

// The whole run (a rollout mid-build, the p95 chart) is what `npm run screenshots` does for the README;
// here its quick mode proves the script starts Chromium, signs in and writes a real PNG.
test("the README's screenshot script runs against a demo and writes a PNG of the home page", async ({ baseURL }) => {
  const out = "test-results/screenshots-quick";
  await rm(out, { recursive: true, force: true });
  await promisify(execFile)(
    process.execPath,
    ["bin/screenshots.mjs", "--quick", "--base-url", baseURL!, "--logins", ".indexdeck-e2e/logins.json", "--out", out],
    { timeout: 60_000 },
  );
  const png = await readFile(`${out}/home.png`);
  expect(png.subarray(0, 8)).toEqual(PNG);
  // IHDR: width and height, big-endian, at bytes 16 and 20.
  expect(png.readUInt32BE(16)).toBe(1280);
  expect(png.readUInt32BE(20)).toBeGreaterThanOrEqual(900);
});
