import { defineRule } from "../rule";

export const syntaxError = defineRule({
  id: "syntax-error",
  severity: "error",
  description: "PostgreSQL's parser rejects the statement",
  help: "Fix the SQL at the reported position; nothing in a file that does not parse is run.",
  check: (ctx) => ctx.syntaxErrors.map((e) => ({ line: e.line, column: e.column, message: e.message })),
});
