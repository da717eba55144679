import { defineRule, indexOnKnownTable } from "../rule";

export const partitionedTable = defineRule({
  id: "partitioned-table",
  severity: "error",
  description: "CONCURRENTLY on a partitioned table",
  help: "PostgreSQL cannot build an index concurrently on a partitioned parent. Create the parent index with CREATE INDEX ... ON ONLY parent (it starts invalid), build each partition's index CONCURRENTLY, then ALTER INDEX parent_idx ATTACH PARTITION partition_idx for each; the parent index becomes valid when all are attached.",
  needsDatabase: true,
  check: (ctx) =>
    ctx.statements.flatMap((stmt) => {
      const found = indexOnKnownTable(ctx, stmt);
      if (!found?.idx.concurrent || found.rel.relkind !== "p") return [];
      const { rel } = found;
      return [{ stmt, message: `${rel.schema}.${rel.name} is partitioned: CREATE INDEX CONCURRENTLY fails on it` }];
    }),
});
