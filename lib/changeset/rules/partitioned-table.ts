import { defineRule, indexOnKnownTable } from "../rule";

export const partitionedTable = defineRule({
  id: "partitioned-table",
  severity: "warning",
  description: "CONCURRENTLY on a partitioned table: indexdeck expands it",
  help: "PostgreSQL cannot build an index concurrently on a partitioned parent. indexdeck's pre-check expands the statement against the target's catalog (every level) into CREATE INDEX … ON ONLY on each partitioned table (instant, INVALID), a CREATE INDEX CONCURRENTLY on each partition and ALTER INDEX … ATTACH PARTITION for each, bottom-up; the parent index becomes valid when all are attached. The expanded plan is in the pre-check evidence and the report. Writing the recipe by hand lints clean too.",
  needsDatabase: true,
  check: (ctx) =>
    ctx.statements.flatMap((stmt) => {
      const found = indexOnKnownTable(ctx, stmt);
      if (!found?.idx.concurrent || found.rel.relkind !== "p") return [];
      const { rel } = found;
      return [
        {
          stmt,
          message: `${rel.schema}.${rel.name} is partitioned: pre-check expands this into ON ONLY on the parent, a concurrent build on each partition and ATTACH PARTITION for each`,
        },
      ];
    }),
});
