import { createdIndex } from "../nodes";
import { defineRule, relationKey } from "../rule";

export const existingInvalidIndex = defineRule({
  id: "existing-invalid-index",
  severity: "error",
  description: "an INVALID index with this name already exists",
  help: "A failed concurrent build left it behind. IF NOT EXISTS would keep the broken index and report success. Drop it first: DROP INDEX CONCURRENTLY IF EXISTS <name>;",
  needsDatabase: true,
  check: (ctx) =>
    ctx.statements.flatMap((stmt) => {
      const idx = createdIndex(stmt);
      const existing = idx?.name ? ctx.schema?.indexesByName.get(relationKey(idx.schema, idx.name)) : null;
      if (!existing || existing.valid) return [];
      return [{ stmt, message: `index ${idx!.name} already exists on ${existing.table} and is INVALID` }];
    }),
});
