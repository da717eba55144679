import { policyRule } from "../rule";

export const setLocalOutsideTransaction = policyRule({
  id: "set-local-outside-transaction",
  description: "SET LOCAL has no effect outside a transaction",
  help: "Change sets run statement by statement outside transactions, where SET LOCAL only warns and changes nothing, so the setting the author meant is not in force. Use SET.",
});
