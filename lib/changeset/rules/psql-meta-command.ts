import { defineRule } from "../rule";

export const psqlMetaCommand = defineRule({
  id: "psql-meta-command",
  severity: "error",
  description: "a psql meta-command (\\set, \\d, \\timing …), which is not SQL",
  help: "indexdeck sends each statement to the server itself, without psql, so a meta-command would never run. Remove it; write what it did as SQL (a SET, or the statement an \\i file holds).",
  check: (ctx) => ctx.syntaxErrors.filter((e) => e.kind === "meta-command").map((e) => ({ line: e.line, column: e.column, message: e.message })),
});
