import { describe, expect, it } from "vitest";
import { formatReports, reportPieces } from "./format";
import { lintText, summarize } from "./lint";

describe("lint report formats", () => {
  it("writes JSON a finding at a time, byte for byte the contract's JSON.stringify", async () => {
    for (const text of [
      "SET lock_timeout = '2s';\n",
      'BEGIN;\nCREATE INDEX "a\\"é" ON t (x);\nCOMMENT ON INDEX i IS \'x\n\';\nCOMMIT;\n',
    ]) {
      const reports = [await lintText({ file: "a.sql", text }), await lintText({ file: 'b "q".sql', text })];
      const findings = reports.flatMap((r) =>
        r.findings.map(({ file, line, column, rule, severity, message }) => ({ file, line, column, rule, severity, message })),
      );
      const { files, statements, indexes, errors, warnings } = summarize(reports);
      const expected = JSON.stringify({ summary: { files, statements, indexes, errors, warnings }, findings }, null, 2) + "\n";
      expect(formatReports(reports, "json")).toBe(expected);
      expect([...reportPieces(reports, "json")].length).toBe(findings.length + 2);
    }
  });

  it("writes text one finding (with its help) per piece, then the summary", async () => {
    const reports = [await lintText({ file: "a.sql", text: "BEGIN;\nCREATE INDEX a ON t (x);\n" })];
    const pieces = [...reportPieces(reports, "text")];
    expect(pieces[0]).toMatch(/^a\.sql:1:1 error transaction-wrapper .*\n {4}help: .*\n$/);
    expect(pieces.at(-1)).toBe(
      `${reports[0].findings.filter((f) => f.severity === "error").length} error(s), ${reports[0].findings.filter((f) => f.severity === "warning").length} warning(s)\n`,
    );
  });
});
