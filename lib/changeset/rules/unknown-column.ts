import { referencedColumns } from "../nodes";
import { defineRule, indexOnKnownTable } from "../rule";

export const unknownColumn = defineRule({
  id: "unknown-column",
  severity: "error",
  description: "the index names a column the table does not have",
  help: "Check the column name (unquoted names are folded to lower case) against the table's definition on the target.",
  needsDatabase: true,
  check: (ctx) =>
    ctx.statements.flatMap((stmt) => {
      const found = indexOnKnownTable(ctx, stmt);
      if (!found) return [];
      const { rel } = found;
      return referencedColumns(stmt)
        .filter((c) => !rel.columns.has(c))
        .map((c) => ({ stmt, message: `column ${c} does not exist in ${rel.schema}.${rel.name}` }));
    }),
});
