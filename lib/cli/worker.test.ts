import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "./testing";

const saved = process.env.INDEXDECK_AUDIT_KEY;
afterEach(() => {
  process.env.INDEXDECK_AUDIT_KEY = saved;
});

describe("indexdeck worker", () => {
  it("refuses to start without the audit key its jobs sign rows with, saying which variable", async () => {
    delete process.env.INDEXDECK_AUDIT_KEY;
    const r = await runCli(["worker"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("INDEXDECK_AUDIT_KEY is not set: audit rows are signed with it");
  });
});
