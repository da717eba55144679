import { isConcurrentBuild } from "../nodes";
import { defineRule } from "../rule";
import { formatDuration, parseDurationMs } from "../settings";

export const statementTimeoutRisk = defineRule({
  id: "statement-timeout-risk",
  severity: "warning",
  description: "a short statement_timeout is in force for a concurrent build",
  help: "When statement_timeout ends CREATE INDEX CONCURRENTLY midway, PostgreSQL leaves an INVALID index behind; with IF NOT EXISTS the next run skips it silently and the index stays broken. Use SET statement_timeout = 0 (or longer than the build) before concurrent builds and rely on lock_timeout for safety.",
  check: (ctx) =>
    ctx.statements.flatMap((stmt, i) => {
      if (!isConcurrentBuild(stmt)) return [];
      const value = ctx.settings[i].get("statement_timeout");
      const ms = value === undefined ? null : parseDurationMs(value);
      if (ms === null || ms === 0 || ms >= ctx.options.statementTimeoutRiskMs) return [];
      return [
        {
          stmt,
          message: `statement_timeout is ${formatDuration(ms)} for this concurrent build; if the build takes longer it is cancelled and leaves an INVALID index`,
        },
      ];
    }),
});
