import { defineRule } from "../rule";

export const transactionWrapper = defineRule({
  id: "transaction-wrapper",
  severity: "error",
  description: "transaction control in an index change set",
  help: "CREATE/DROP INDEX CONCURRENTLY cannot run inside a transaction block. Remove BEGIN/COMMIT/SAVEPOINT: indexdeck runs each statement on its own.",
  check: (ctx) =>
    ctx.statements
      .filter((s) => s.kind === "TransactionStmt")
      .map((stmt) => ({ stmt, message: `${stmt.text.split(/\s+/)[0].toUpperCase()} starts or ends a transaction block, where concurrent index builds fail` })),
});
