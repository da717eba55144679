import { createdIndex } from "../nodes";
import { defineRule } from "../rule";

export const concurrentUniqueIndex = defineRule({
  id: "concurrent-unique-index",
  severity: "warning",
  description: "CREATE UNIQUE INDEX CONCURRENTLY, whose failed build can leave an INVALID index that still refuses duplicates",
  help: "A concurrent build marks the index ready for writes before it validates it. If it fails after that (duplicates written meanwhile, a timeout or a cancel in its later phases), the INVALID index stays and rejects every new write that would duplicate a key, until someone drops it. indexdeck's apply checks for it after any failed build and drops it concurrently before it retries or reports the failure (and reconcile does the same after a lost connection); by hand, run DROP INDEX CONCURRENTLY on it at once. Check for duplicate keys before you roll out.",
  check: (ctx) =>
    ctx.statements.flatMap((stmt) => {
      const idx = createdIndex(stmt);
      if (!idx?.unique || !idx.concurrent) return [];
      return [
        {
          stmt,
          message: `unique index ${idx.name ?? "(unnamed)"} is built concurrently: if the build fails after its first scan, the INVALID index it leaves still enforces uniqueness on new writes to ${idx.table} until it is dropped`,
        },
      ];
    }),
});
