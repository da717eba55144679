import { defineRule } from "../rule";
import { checkTimeoutSet } from "./require-timeout";

export const requireStatementTimeout = defineRule({
  id: "require-statement-timeout",
  severity: "warning",
  description: "no statement_timeout before the first index statement",
  help: "State the time limit explicitly: a role or server default can end a long build halfway. For concurrent builds choose one longer than the build (or 0) — see statement-timeout-risk.",
  check: (ctx) => checkTimeoutSet(ctx, "statement_timeout"),
});
