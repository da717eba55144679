import { createdIndex } from "../nodes";
import { defineRule, relationKey } from "../rule";

export const duplicateIndexName = defineRule({
  id: "duplicate-index-name",
  severity: "error",
  description: "two CREATE INDEX statements use the same name",
  help: "The second fails, or with IF NOT EXISTS is silently skipped although its definition differs. Give each index its own name.",
  check: (ctx) => {
    const seen = new Map<string, number>();
    return ctx.statements.flatMap((stmt) => {
      const idx = createdIndex(stmt);
      if (!idx?.name) return [];
      const key = relationKey(idx.schema, idx.name);
      const firstLine = seen.get(key);
      if (firstLine === undefined) {
        seen.set(key, stmt.line);
        return [];
      }
      return [{ stmt, message: `index name ${idx.name} is already created at line ${firstLine}` }];
    });
  },
});
