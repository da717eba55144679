import { defineRule, indexOnKnownTable } from "../rule";
import { formatDuration, parseDurationMs } from "../settings";

export const timeoutTooShort = defineRule({
  id: "timeout-too-short",
  severity: "error",
  description: "statement_timeout is shorter than the estimated build time",
  help: "The build will most likely be cancelled and leave an INVALID index. Raise statement_timeout above the estimate (or SET statement_timeout = 0). The estimate is table size / build rate × safety factor, doubled for CONCURRENTLY (it reads the table twice); rate and factor are linter options.",
  needsDatabase: true,
  check: (ctx) =>
    ctx.statements.flatMap((stmt, i) => {
      const found = indexOnKnownTable(ctx, stmt);
      const value = ctx.settings[i].get("statement_timeout");
      const timeout = value === undefined ? null : parseDurationMs(value);
      if (!found || !timeout) return [];
      const { idx, rel } = found;
      const estimate = (rel.bytes / ctx.options.buildBytesPerSecond) * 1000 * ctx.options.buildSafetyFactor * (idx.concurrent ? 2 : 1);
      if (timeout >= estimate) return [];
      return [
        {
          stmt,
          message: `statement_timeout ${formatDuration(timeout)} is shorter than the estimated build time of ${idx.name ?? "this index"}: ${formatDuration(estimate)} for ${(rel.bytes / 1048576).toFixed(0)} MB of ${rel.name}`,
        },
      ];
    }),
});
