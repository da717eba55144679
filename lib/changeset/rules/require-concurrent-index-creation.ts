import { createdIndex } from "../nodes";
import { defineRule } from "../rule";

export const requireConcurrentIndexCreation = defineRule({
  id: "require-concurrent-index-creation",
  severity: "error",
  description: "CREATE INDEX without CONCURRENTLY",
  help: "A plain CREATE INDEX holds a SHARE lock for the whole build: every INSERT, UPDATE and DELETE on the table waits. Use CREATE INDEX CONCURRENTLY.",
  check: (ctx) =>
    ctx.statements
      .filter((s) => createdIndex(s)?.concurrent === false)
      .map((stmt) => ({
        stmt,
        message: `index ${createdIndex(stmt)!.name ?? "(unnamed)"} is built without CONCURRENTLY: writes to ${createdIndex(stmt)!.table} are blocked until it finishes`,
      })),
});
