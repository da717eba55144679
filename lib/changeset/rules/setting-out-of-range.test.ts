import { describe, expect, it } from "vitest";
import { findings } from "./testing";

describe("setting-out-of-range", () => {
  it("fires on lock_timeout off, unbounded or reset, a statement_timeout that cancels builds, and memory or workers above the limits", async () => {
    const sql = [
      "SET lock_timeout = 0;",
      "SET lock_timeout = '1h';",
      "RESET lock_timeout;",
      "SET lock_timeout TO DEFAULT;",
      "SET lock_timeout = 'soon';",
      "SET statement_timeout = '1ms';",
      "SET statement_timeout = -5;",
      "SET maintenance_work_mem = '64GB';",
      "SET maintenance_work_mem = 512;",
      "SET max_parallel_maintenance_workers = 32;",
    ].join("\n");
    expect(await findings("setting-out-of-range", sql)).toEqual([
      "1:1 lock_timeout 0 means wait for locks forever: a build queued behind a long transaction would stall every writer behind it",
      "2:1 lock_timeout 1 h is above the 1 min limit: writers queue behind a waiting DDL statement for that long",
      "3:1 RESET lock_timeout gives it back to the server's default, which may be 0 (wait forever): set a value instead",
      "4:1 RESET lock_timeout gives it back to the server's default, which may be 0 (wait forever): set a value instead",
      "5:1 lock_timeout 'soon' is not a duration PostgreSQL reads (e.g. '2s', 500)",
      "6:1 statement_timeout 1 ms is below 1 s: it can cancel a concurrent build or drop midway, which leaves an INVALID index",
      "7:1 statement_timeout -5 is negative",
      "8:1 maintenance_work_mem 64 GB is above this target's limit of 1 GB",
      "9:1 maintenance_work_mem 512 kB is below PostgreSQL's minimum of 1 MB",
      "10:1 max_parallel_maintenance_workers 32 is above this target's limit of 4",
    ]);
  });
  it("does not fire within the bounds", async () => {
    expect(
      await findings(
        "setting-out-of-range",
        "SET lock_timeout = '2s';\nSET lock_timeout = 500;\nSET statement_timeout = 0;\nSET statement_timeout = '30min';\nSET maintenance_work_mem = '1GB';\nSET max_parallel_maintenance_workers = 0;\n",
      ),
    ).toEqual([]);
  });
});
