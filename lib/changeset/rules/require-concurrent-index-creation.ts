import { createdIndex } from "../nodes";
import { defineRule, relationKey } from "../rule";

export const requireConcurrentIndexCreation = defineRule({
  id: "require-concurrent-index-creation",
  severity: "error",
  description: "CREATE INDEX without CONCURRENTLY",
  help: "A plain CREATE INDEX holds a SHARE lock for the whole build: every INSERT, UPDATE and DELETE on the table waits. Use CREATE INDEX CONCURRENTLY. (CREATE INDEX … ON ONLY a partitioned table builds nothing: it is the first step of the partitioned-index recipe.)",
  check: (ctx) =>
    ctx.statements.flatMap((stmt) => {
      const idx = createdIndex(stmt);
      if (!idx || idx.concurrent) return [];
      // ON ONLY creates only a partitioned parent's empty index; on any other table ONLY changes nothing and the build blocks.
      const rel = idx.only ? ctx.schema?.relations.get(relationKey(idx.schema, idx.table)) : null;
      if (idx.only && rel?.relkind !== "r") return [];
      const why = idx.only ? ` (ON ONLY: ${rel!.schema}.${rel!.name} is not partitioned, so the whole index is built)` : "";
      return [
        {
          stmt,
          message: `index ${idx.name ?? "(unnamed)"} is built without CONCURRENTLY${why}: writes to ${idx.table} are blocked until it finishes`,
        },
      ];
    }),
});
