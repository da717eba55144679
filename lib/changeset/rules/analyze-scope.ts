import { policyRule } from "../rule";

export const analyzeScope = policyRule({
  id: "analyze-scope",
  description: "ANALYZE without a table",
  help: "A bare ANALYZE reads every table of the database. Name the tables whose statistics the new indexes need: ANALYZE orders;",
});
