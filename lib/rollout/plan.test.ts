import { describe, expect, it } from "vitest";
import { planChangeSet, planRollback } from "./plan";

describe("planRollback", () => {
  it("drops each index concurrently after a short lock_timeout, numbering its own steps from 0", async () => {
    const tasks = await planChangeSet(
      "r.sql",
      `SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS a ON s.t (x);\nCREATE INDEX CONCURRENTLY IF NOT EXISTS "we""ird" ON t (y);\n`,
      "production",
    );
    const created = tasks.flatMap((t) => (t.kind === "create_index" && t.indexName ? [{ ...t, indexName: t.indexName }] : []));
    expect(planRollback(created).map((t) => [t.seq, t.kind, t.statement, t.line])).toEqual([
      [0, "set", "SET lock_timeout = '2s'", 0],
      [1, "drop_index", 'DROP INDEX CONCURRENTLY IF EXISTS "s"."a"', 2],
      [2, "drop_index", 'DROP INDEX CONCURRENTLY IF EXISTS "we""ird"', 3],
    ]);
  });
});
