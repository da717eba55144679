import { droppedIndexes } from "../nodes";
import { defineRule } from "../rule";

export const preferIfExists = defineRule({
  id: "prefer-if-exists",
  severity: "warning",
  description: "DROP INDEX without IF EXISTS",
  help: "A rollback re-run after a partial failure then stops at the first index already gone. Add IF EXISTS.",
  check: (ctx) =>
    ctx.statements
      .filter((s) => droppedIndexes(s)?.ifExists === false)
      .map((stmt) => ({
        stmt,
        message: `DROP INDEX ${droppedIndexes(stmt)!
          .names.map((n) => n.name)
          .join(", ")} fails if the index is already gone`,
      })),
});
