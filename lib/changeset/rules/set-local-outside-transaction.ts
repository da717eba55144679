import { nodeBody } from "../nodes";
import { defineRule } from "../rule";

export const setLocalOutsideTransaction = defineRule({
  id: "set-local-outside-transaction",
  severity: "warning",
  description: "SET LOCAL has no effect outside a transaction",
  help: "Change sets run statement by statement outside transactions, where SET LOCAL only warns and changes nothing. Use SET.",
  check: (ctx) =>
    ctx.statements
      .filter((s) => nodeBody(s, "VariableSetStmt")?.is_local)
      .map((stmt) => ({ stmt, message: `SET LOCAL ${String(nodeBody(stmt, "VariableSetStmt")!.name)} is ignored: there is no transaction for it to be local to` })),
});
