import { describe, expect, it } from "vitest";
import { sha256 } from "./store";
import { lintText } from "./lint";
import { LintCache } from "./lint-cache";

const SQL = "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (x);\nCREATE INDEX j ON t (y);\n";

// The Change sets page and the report lint what was stored; a change set's SQL never changes for its
// sha256, so its findings are computed once per linter and options, not once per view.
describe("lint results cached by sha256, linter version and options", () => {
  it("lints a change set once however often and under whichever name it is asked for, with the linter's own findings", async () => {
    const cache = new LintCache({ version: "v1" });
    const [a, b] = await Promise.all([cache.lint({ file: "a.sql", text: SQL }), cache.lint({ file: "a.sql", text: SQL })]);
    const c = await cache.lint({ file: "renamed.sql", text: SQL });
    expect(cache.runs).toBe(1);
    expect(a).toEqual(await lintText({ file: "a.sql", text: SQL }));
    expect(b).toEqual(a);
    expect(c).toEqual(await lintText({ file: "renamed.sql", text: SQL }));
    expect(c.findings.every((f) => f.file === "renamed.sql")).toBe(true);
  });

  it("lints again for other options or another linter version, never handing one's findings to the other", async () => {
    const cache = new LintCache({ version: "v1" });
    const strict = { statementTimeoutRiskMs: 1 };
    await cache.lint({ file: "a.sql", text: SQL });
    await cache.lint({ file: "a.sql", text: SQL, options: strict });
    expect(cache.runs).toBe(2);
    expect(await cache.lint({ file: "a.sql", text: SQL, options: strict })).toEqual(
      await lintText({ file: "a.sql", text: SQL, options: strict }),
    );
    expect(cache.runs).toBe(2);
    const next = new LintCache({ version: "v2" });
    expect(cache.key(sha256(SQL), {})).not.toBe(next.key(sha256(SQL), {}));
  });

  it("keeps at most `capacity` reports, dropping the least recently used", async () => {
    const cache = new LintCache({ version: "v1", capacity: 2 });
    const sql = (n: number) => `CREATE INDEX CONCURRENTLY IF NOT EXISTS i${n} ON t (x);\n`;
    await cache.lint({ file: "1.sql", text: sql(1) });
    await cache.lint({ file: "2.sql", text: sql(2) });
    await cache.lint({ file: "1.sql", text: sql(1) }); // 1 is now the most recent
    await cache.lint({ file: "3.sql", text: sql(3) }); // drops 2
    expect(cache.size).toBe(2);
    await cache.lint({ file: "1.sql", text: sql(1) });
    expect(cache.runs).toBe(3);
    await cache.lint({ file: "2.sql", text: sql(2) });
    expect(cache.runs).toBe(4);
  });
});
