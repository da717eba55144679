import { isReindex } from "../nodes";
import { defineRule } from "../rule";

export const requireConcurrentReindex = defineRule({
  id: "require-concurrent-reindex",
  severity: "error",
  description: "REINDEX without CONCURRENTLY",
  help: "A plain REINDEX blocks writes to the table and reads that would use the index. Use REINDEX ... CONCURRENTLY (PostgreSQL 12+).",
  check: (ctx) =>
    // REINDEX SCHEMA/DATABASE/SYSTEM are refused by reindex-scope, where "add CONCURRENTLY" is no advice.
    ctx.statements
      .filter((s) => {
        const r = isReindex(s);
        return !!r && !r.concurrent && (r.scope === "index" || r.scope === "table");
      })
      .map((stmt) => ({ stmt, message: "REINDEX without CONCURRENTLY blocks writes while it runs" })),
});
