import { describe, expect, it } from "vitest";
import { lintText } from "../lint";
import { findings } from "./testing";

describe("statement-timeout-risk", () => {
  it("fires on each concurrent build under a short statement_timeout (the seed's 30s)", async () => {
    const sql = "SET statement_timeout = '30s';\nCREATE INDEX CONCURRENTLY a ON t (x);\nREINDEX INDEX CONCURRENTLY a;\n";
    expect(await findings("statement-timeout-risk", sql)).toEqual([
      "2:1 statement_timeout is 30 s for this concurrent build; if the build takes longer it is cancelled and leaves an INVALID index",
      "3:1 statement_timeout is 30 s for this concurrent build; if the build takes longer it is cancelled and leaves an INVALID index",
    ]);
  });
  it("reads bare numbers as milliseconds and minutes as minutes", async () => {
    expect(
      await findings("statement-timeout-risk", "SET statement_timeout = 60000;\nCREATE INDEX CONCURRENTLY a ON t (x);\n"),
    ).toHaveLength(1);
    expect(await findings("statement-timeout-risk", "SET statement_timeout = '15min';\nCREATE INDEX CONCURRENTLY a ON t (x);\n")).toEqual(
      [],
    );
  });
  it("does not fire for 0, for no timeout, or for non-concurrent statements", async () => {
    expect(await findings("statement-timeout-risk", "SET statement_timeout = 0;\nCREATE INDEX CONCURRENTLY a ON t (x);\n")).toEqual([]);
    expect(await findings("statement-timeout-risk", "CREATE INDEX CONCURRENTLY a ON t (x);\n")).toEqual([]);
    expect(await findings("statement-timeout-risk", "SET statement_timeout = '1s';\nDROP INDEX CONCURRENTLY a;\n")).toEqual([]);
  });
  it("fires on any timeout when configured to", async () => {
    const r = await lintText({
      file: "f",
      text: "SET statement_timeout = '2h';\nCREATE INDEX CONCURRENTLY a ON t (x);\n",
      options: { statementTimeoutRiskMs: Infinity },
    });
    expect(r.findings.filter((f) => f.rule === "statement-timeout-risk")).toHaveLength(1);
  });
});
