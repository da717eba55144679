import { policyRule } from "../rule";

export const transactionWrapper = policyRule({
  id: "transaction-wrapper",
  description: "transaction control in an index change set",
  help: "CREATE/DROP INDEX CONCURRENTLY cannot run inside a transaction block. Remove BEGIN/COMMIT/SAVEPOINT: indexdeck runs each statement on its own.",
});
