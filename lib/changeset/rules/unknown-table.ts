import { createdIndex } from "../nodes";
import { defineRule, relationKey } from "../rule";

export const unknownTable = defineRule({
  id: "unknown-table",
  severity: "error",
  description: "the table to index does not exist on the target",
  help: "Check the table name and schema (unqualified names resolve through the search_path), or deploy the migration that creates the table first.",
  needsDatabase: true,
  check: (ctx) =>
    ctx.statements.flatMap((stmt) => {
      const idx = createdIndex(stmt);
      if (!idx || ctx.schema?.relations.get(relationKey(idx.schema, idx.table)) !== null) return [];
      return [{ stmt, message: `table ${idx.schema ? `${idx.schema}.` : ""}${idx.table} does not exist on the target` }];
    }),
});
