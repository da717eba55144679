import { policyRule } from "../rule";

export const dropIndexShape = policyRule({
  id: "drop-index-shape",
  description: "DROP INDEX of several indexes, or with CASCADE",
  help: "Write one DROP INDEX CONCURRENTLY IF EXISTS per index, without CASCADE: PostgreSQL refuses several indexes with CONCURRENTLY, and CASCADE silently drops constraints that depend on the index.",
});
