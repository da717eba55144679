import { defineRule } from "../rule";
import { checkTimeoutSet } from "./require-timeout";

export const requireLockTimeout = defineRule({
  id: "require-lock-timeout",
  severity: "warning",
  description: "no lock_timeout before the first index statement",
  help: "Even a concurrent build briefly needs a lock; queued behind a long transaction it makes every later writer queue behind it. SET lock_timeout = '2s' (indexdeck retries with backoff).",
  check: (ctx) => checkTimeoutSet(ctx, "lock_timeout"),
});
