import { policyRule } from "../rule";

export const systemCatalog = policyRule({
  id: "system-catalog",
  description: "a statement on a system catalog",
  help: "Indexes of pg_catalog, information_schema and pg_toast belong to PostgreSQL: a rollout never builds, drops, reindexes or comments them. An unqualified pg_* name means the catalog, since pg_catalog comes first on the apply session's search_path.",
});
