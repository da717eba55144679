import { policyRule } from "../rule";

export const settingOutOfRange = policyRule({
  id: "setting-out-of-range",
  description: "a rollout setting outside its bounds",
  help: "lock_timeout must stay above 0 and at most 60 s (RESET gives it back to a server default that may be 0); statement_timeout is 0 or at least 1 s; maintenance_work_mem at least 1 MB and within the target's limit (default 1 GB); max_parallel_maintenance_workers within the target's limit (default 4).",
});
