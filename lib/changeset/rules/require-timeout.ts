import { isIndexStatement } from "../nodes";
import type { RuleContext, RuleFinding } from "../rule";

/** Shared by require-lock-timeout and require-statement-timeout: the first index statement must run under an explicit SET of `setting`. */
export function checkTimeoutSet(ctx: RuleContext, setting: string): RuleFinding[] {
  if (ctx.indexStatementsBefore > 0) return []; // the first was in an earlier part
  const first = ctx.statements.findIndex(isIndexStatement);
  if (first < 0 || ctx.settings[first].has(setting)) return [];
  return [
    {
      stmt: ctx.statements[first],
      message: `no SET ${setting} before the first index statement: it runs under whatever the server or role default is`,
    },
  ];
}
