import { createdIndex, referencedColumns } from "../nodes";
import { defineRule, relationKey } from "../rule";

export const unknownColumn = defineRule({
  id: "unknown-column",
  severity: "error",
  description: "the index names a column the table does not have",
  help: "Check the column name (unquoted names are folded to lower case) against the table's definition on the target.",
  needsDatabase: true,
  check: (ctx) =>
    ctx.statements.flatMap((stmt) => {
      const idx = createdIndex(stmt);
      const rel = idx && ctx.schema?.relations.get(relationKey(idx.schema, idx.table));
      if (!idx || !rel) return [];
      return referencedColumns(stmt)
        .filter((c) => !rel.columns.has(c))
        .map((c) => ({ stmt, message: `column ${c} does not exist in ${rel.schema}.${rel.name}` }));
    }),
});
