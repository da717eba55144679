import { createdIndex } from "../nodes";
import { defineRule } from "../rule";

export const preferIfNotExists = defineRule({
  id: "prefer-if-not-exists",
  severity: "warning",
  description: "CREATE INDEX without IF NOT EXISTS",
  help: "Re-running the change set after a partial failure then stops at the first index that exists. Add IF NOT EXISTS (indexdeck still checks that an existing index is valid).",
  check: (ctx) =>
    ctx.statements
      .filter((s) => createdIndex(s)?.ifNotExists === false && createdIndex(s)?.name)
      .map((stmt) => ({ stmt, message: `CREATE INDEX ${createdIndex(stmt)!.name} fails on a re-run once the index exists` })),
});
