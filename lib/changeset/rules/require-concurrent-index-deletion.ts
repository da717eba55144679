import { droppedIndexes } from "../nodes";
import { defineRule } from "../rule";

export const requireConcurrentIndexDeletion = defineRule({
  id: "require-concurrent-index-deletion",
  severity: "error",
  description: "DROP INDEX without CONCURRENTLY",
  help: "A plain DROP INDEX takes an ACCESS EXCLUSIVE lock on the table: reads and writes wait. Use DROP INDEX CONCURRENTLY (one index per statement).",
  check: (ctx) =>
    ctx.statements
      .filter((s) => droppedIndexes(s)?.concurrent === false)
      .map((stmt) => ({
        stmt,
        message: `DROP INDEX ${droppedIndexes(stmt)!
          .names.map((n) => n.name)
          .join(", ")} without CONCURRENTLY blocks all access to the table`,
      })),
});
