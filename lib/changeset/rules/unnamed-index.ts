import { createdIndex } from "../nodes";
import { defineRule } from "../rule";

export const unnamedIndex = defineRule({
  id: "unnamed-index",
  severity: "error",
  description: "CREATE INDEX without a name",
  help: "PostgreSQL picks a name, so IF NOT EXISTS cannot match a re-run, and verify and rollback cannot find the index by name. Name every index.",
  check: (ctx) =>
    ctx.statements
      .filter((s) => {
        const idx = createdIndex(s);
        return !!idx && !idx.name;
      })
      .map((stmt) => ({ stmt, message: `index on ${createdIndex(stmt)!.table} has no name` })),
});
