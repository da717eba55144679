import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { planChangeSet, PlanError } from "../rollout/plan";
import { lintText } from "./lint";
import { RULES } from "./rules";
import { POLICY_RULES } from "./statement-policy";

describe("the statement policy", () => {
  it("is reported by one lint rule per policy rule, none of which an ignore comment can silence", () => {
    for (const id of POLICY_RULES) {
      const rule = RULES.find((r) => r.id === id);
      expect(rule, id).toBeDefined();
      expect(rule).toMatchObject({ severity: "error", suppressible: false });
    }
  });

  // Statements from every corner of the policy: allowed, refused by kind, by setting, by scope.
  const STATEMENTS = [
    "SET lock_timeout = '2s'",
    "SET lock_timeout = 0",
    "RESET lock_timeout",
    "SET statement_timeout = 0",
    "SET statement_timeout = '1ms'",
    "SET maintenance_work_mem = '256MB'",
    "SET maintenance_work_mem = '99GB'",
    "SET ROLE postgres",
    "SET search_path = evil",
    "SET standard_conforming_strings = off",
    "SET LOCAL lock_timeout = '1s'",
    "RESET ALL",
    "BEGIN",
    "COMMIT",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS a ON t (x)",
    "CREATE INDEX CONCURRENTLY b ON pg_class (relname)",
    "DROP INDEX CONCURRENTLY IF EXISTS a",
    "DROP INDEX CONCURRENTLY a, b",
    "DROP INDEX CONCURRENTLY c CASCADE",
    "DROP TABLE t",
    "REINDEX INDEX CONCURRENTLY a",
    "REINDEX DATABASE CONCURRENTLY",
    "REINDEX (CONCURRENTLY false) TABLE t",
    "COMMENT ON INDEX a IS 'fine'",
    "COMMENT ON INDEX a IS 'back\\slash'",
    "COMMENT ON TABLE t IS 'x'",
    "ANALYZE t",
    "ANALYZE",
    "VACUUM t",
    "DO $$ BEGIN END $$",
    "COPY t TO PROGRAM 'true'",
    "SELECT pg_sleep(1)",
    "ALTER INDEX a RENAME TO b",
    "CREATE INDEX p ON ONLY t (x)",
    "ALTER INDEX p ATTACH PARTITION c",
    "ALTER INDEX pg_catalog.pg_class_oid_index ATTACH PARTITION c",
    "ALTER INDEX p ATTACH PARTITION pg_toast.c",
    "ALTER INDEX p SET TABLESPACE elsewhere",
    "ALTER TABLE t ATTACH PARTITION c DEFAULT",
    "ALTER TABLE t DETACH PARTITION c",
  ];

  it("refuses in the plan exactly what the linter reports as a policy error, statement by statement", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...STATEMENTS), { minLength: 1, maxLength: 6 }), async (picked) => {
        const sql = picked.map((s) => `${s};\n`).join("");
        const report = await lintText({ file: "p.sql", text: sql });
        const policyLines = report.findings
          .filter((f) => (POLICY_RULES as readonly string[]).includes(f.rule))
          .map((f) => `p.sql:${f.line}:${f.column}: ${f.rule}`);
        let refused: string[] = [];
        try {
          await planChangeSet("p.sql", sql, "staging");
        } catch (err) {
          if (!(err instanceof PlanError)) throw err;
          refused = err.message
            .split("\n")
            .filter((l) => !l.includes("unnamed-index"))
            .map((l) => l.split(": ").slice(0, 2).join(": "));
        }
        expect(refused.sort()).toEqual(policyLines.sort());
      }),
      { numRuns: 200 },
    );
  });
});
