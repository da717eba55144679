import { policyRule } from "../rule";

export const backslashInString = policyRule({
  id: "backslash-in-string",
  description: "a backslash in a standard string literal",
  help: "With standard_conforming_strings off, PostgreSQL reads a backslash in '…' as an escape, so the string can end somewhere the linter and the approvers did not see. indexdeck pins the setting on; still, write such text without a backslash, or as an E'…' string whose meaning never depends on a setting.",
});
