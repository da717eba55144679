import { policyRule } from "../rule";

export const nonIndexStatement = policyRule({
  id: "non-index-statement",
  description: "a statement that is not about indexes",
  help: "An index change set may hold only SET of the rollout settings, CREATE/DROP INDEX, REINDEX of an index or table, COMMENT ON INDEX and ANALYZE of named tables. Anything else (an ALTER TABLE, a DELETE, a DO block) belongs in a reviewed migration of its own.",
});
