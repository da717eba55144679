import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { lintText } from "./lint";
import { Source } from "./source";

const SEED = [
  "SET lock_timeout = '2s';",
  "SET statement_timeout = '30s';",
  "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_a ON payments (org_id, status, created_at);",
  "-- indexdeck-ignore prefer-if-exists",
  "DROP INDEX CONCURRENTLY idx_b;",
  "COMMENT ON INDEX idx_a IS $$ a ; b $$;",
  "/* block */ REINDEX INDEX CONCURRENTLY idx_a;",
  "BEGIN;",
  "CREATE INDEX é ON t (x) WHERE y > 'ü';",
];

/** Random text, or seed statements cut, spliced and sprinkled with stray characters. */
const sqlish = fc.oneof(
  fc.string({ unit: "binary", maxLength: 300 }),
  fc
    .array(fc.constantFrom(...SEED), { maxLength: 12 })
    .chain((parts) =>
      fc.tuple(
        fc.constant(parts.join("\n")),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom("'", "$$", ";", "(", "\n", "--", "/*", "\\", "é", "\u0000")), { maxLength: 5 }),
      ),
    )
    .map(([text, edits]) => edits.reduce((t, [at, s]) => t.slice(0, at % (t.length + 1)) + s + t.slice(at % (t.length + 1)), text)),
);

describe("linter on random and mutated SQL", () => {
  it("never throws, and every finding points inside the file", async () => {
    await fc.assert(
      fc.asyncProperty(sqlish, async (text) => {
        const report = await lintText({ file: "p.sql", text });
        const source = new Source("p.sql", text);
        for (const f of report.findings) {
          expect(f.line).toBeGreaterThanOrEqual(1);
          expect(f.line).toBeLessThanOrEqual(source.lineCount);
          expect(f.column).toBeGreaterThanOrEqual(1);
          expect(f.column).toBeLessThanOrEqual(source.line(f.line).length + 1);
        }
      }),
      { numRuns: 400 },
    );
  });
});
