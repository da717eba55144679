import { defineRule } from "../rule";

export const syntaxError = defineRule({
  id: "syntax-error",
  severity: "error",
  description: "PostgreSQL's parser rejects the statement, so it and the lines named are not checked",
  help: "Fix the SQL at the reported position; nothing in a file that does not parse is run.",
  // Meta-commands are unparsable too, but they get their own rule and advice.
  check: (ctx) => ctx.syntaxErrors.filter((e) => e.kind === "sql").map((e) => ({ line: e.line, column: e.column, message: e.message })),
});
