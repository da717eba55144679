import { defineRule } from "../rule";

export const psqlMetaCommand = defineRule({
  id: "psql-meta-command",
  severity: "error",
  description: "psql's own input, which is not SQL: a meta-command (\\set, \\d, \\timing …) or the data of COPY … FROM STDIN",
  help: "indexdeck sends each statement to the server itself, without psql, so a meta-command would never run and COPY data would never be sent. Remove it; write what a meta-command did as SQL (a SET, or the statement an \\i file holds). Data loads do not belong in an index change set.",
  check: (ctx) =>
    ctx.syntaxErrors.filter((e) => e.kind === "meta-command").map((e) => ({ line: e.line, column: e.column, message: e.message })),
});
