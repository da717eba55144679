import { droppedIndexes, nodeBody } from "../nodes";
import { defineRule } from "../rule";
import type { Statement } from "../parse";

function allowed(stmt: Statement): boolean {
  switch (stmt.kind) {
    case "VariableSetStmt":
    case "IndexStmt":
    case "ReindexStmt":
    case "TransactionStmt": // reported by transaction-wrapper
      return true;
    case "DropStmt":
      return droppedIndexes(stmt) !== null;
    case "CommentStmt":
      return nodeBody(stmt, "CommentStmt")!.objtype === "OBJECT_INDEX";
    case "VacuumStmt":
      return !nodeBody(stmt, "VacuumStmt")!.is_vacuumcmd; // ANALYZE, not VACUUM
    default:
      return false;
  }
}

export const nonIndexStatement = defineRule({
  id: "non-index-statement",
  severity: "error",
  description: "a statement that is not about indexes",
  help: "An index change set may hold only SET/RESET, CREATE/DROP INDEX, REINDEX, COMMENT ON INDEX and ANALYZE. Anything else (an ALTER TABLE, a DELETE) belongs in a reviewed migration of its own.",
  check: (ctx) =>
    ctx.statements.filter((s) => !allowed(s)).map((stmt) => ({ stmt, message: `${stmt.kind.replace(/Stmt$/, "")} statement does not belong in an index change set` })),
});
