import { describe, expect, it } from "vitest";
import { lintText } from "../lint";
import { findings } from "./testing";

describe("indexdeck-ignore and unknown-ignore-rule", () => {
  it("suppresses the named rules for the statement right below, and only those", async () => {
    const sql =
      "-- indexdeck-ignore require-concurrent-index-creation, prefer-if-not-exists\n-- a note\nCREATE INDEX a ON t (x);\nCREATE INDEX b ON t (x);\n";
    const r = await lintText({ file: "f", text: sql });
    const at = r.findings.map((f) => `${f.line} ${f.rule}`);
    expect(at).not.toContain("3 require-concurrent-index-creation");
    expect(at).not.toContain("3 prefer-if-not-exists");
    expect(at).toContain("4 require-concurrent-index-creation");
  });
  it("warns about an unknown rule id, where it is written", async () => {
    expect(await findings("unknown-ignore-rule", "-- indexdeck-ignore no-such-rule\nCREATE INDEX CONCURRENTLY a ON t (x);\n")).toEqual([
      '1:21 unknown rule id "no-such-rule" in indexdeck-ignore',
    ]);
  });
  it("does not warn about known ids", async () => {
    expect(
      await findings("unknown-ignore-rule", "-- indexdeck-ignore prefer-if-not-exists\nCREATE INDEX CONCURRENTLY a ON t (x);\n"),
    ).toEqual([]);
  });
});
