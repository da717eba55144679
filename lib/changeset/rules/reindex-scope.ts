import { policyRule } from "../rule";

export const reindexScope = policyRule({
  id: "reindex-scope",
  description: "REINDEX of a schema, the database or the system catalogs",
  help: "A rollout rebuilds named indexes: REINDEX INDEX CONCURRENTLY name, or REINDEX TABLE CONCURRENTLY name. REINDEX SCHEMA/DATABASE rebuilds everything at once, and REINDEX SYSTEM can't run concurrently at all.",
});
