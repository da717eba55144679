import { isReindex } from "../nodes";
import { defineRule } from "../rule";

export const requireConcurrentReindex = defineRule({
  id: "require-concurrent-reindex",
  severity: "error",
  description: "REINDEX without CONCURRENTLY",
  help: "A plain REINDEX blocks writes to the table and reads that would use the index. Use REINDEX ... CONCURRENTLY (PostgreSQL 12+).",
  check: (ctx) =>
    ctx.statements.filter((s) => isReindex(s)?.concurrent === false).map((stmt) => ({ stmt, message: "REINDEX without CONCURRENTLY blocks writes while it runs" })),
});
