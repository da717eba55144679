import { defineRule } from "../rule";

export const unknownIgnoreRule = defineRule({
  id: "unknown-ignore-rule",
  severity: "warning",
  description: "an indexdeck-ignore comment names a rule that does not exist",
  help: "A misspelt rule id suppresses nothing. Use one of the ids listed by `indexdeck lint --rules`.",
  check: (ctx) =>
    ctx.statements.flatMap((s) =>
      s.directives
        .filter((d) => !ctx.knownRuleIds.has(d.rule))
        .map((d) => ({ line: d.line, column: d.column, message: `unknown rule id "${d.rule}" in indexdeck-ignore` })),
    ),
});
