import { policyRule } from "../rule";

export const settingNotAllowed = policyRule({
  id: "setting-not-allowed",
  description: "SET of a setting a rollout may not change",
  help: "A change set may SET only lock_timeout, statement_timeout, maintenance_work_mem and max_parallel_maintenance_workers. The apply session fixes how SQL text is read (standard_conforming_strings, backslash_quote, client_encoding), the role, and the search_path (pg_catalog first); a change set can't change them.",
});
