import { describe, expect, it } from "vitest";
import { findings } from "./testing";

describe("non-index-statement", () => {
  it("fires on anything that is not about indexes", async () => {
    const sql = "ALTER TABLE t ADD COLUMN c int;\nDELETE FROM t;\nVACUUM t;\nDROP TABLE t;\nCOMMENT ON TABLE t IS 'x';\n";
    expect((await findings("non-index-statement", sql)).map((f) => f.split(" ")[0])).toEqual(["1:1", "2:1", "3:1", "4:1", "5:1"]);
  });
  it("does not fire on SET, RESET, index statements, COMMENT ON INDEX, ANALYZE or the partitioned-index recipe", async () => {
    const sql =
      "SET lock_timeout = '1s';\nRESET lock_timeout;\nCREATE INDEX CONCURRENTLY a ON t (x);\nDROP INDEX CONCURRENTLY a;\nREINDEX INDEX CONCURRENTLY a;\nCOMMENT ON INDEX a IS 'x';\nANALYZE t;\nCREATE INDEX p ON ONLY t (x);\nALTER INDEX s.p ATTACH PARTITION s.c;\n";
    expect(await findings("non-index-statement", sql)).toEqual([]);
  });
});

describe("non-index-statement names what a DBA wrote", () => {
  it("says ALTER INDEX, not AlterTable, with why each form is refused", async () => {
    const sql =
      "ALTER TABLE p ATTACH PARTITION c FOR VALUES IN (1);\nALTER INDEX i ALTER COLUMN 1 SET STATISTICS 100;\nALTER INDEX i RENAME TO j;\nDO $$ BEGIN END $$;\nCOPY t FROM PROGRAM 'id';\n";
    expect(await findings("non-index-statement", sql)).toEqual([
      "1:1 ALTER TABLE statement does not belong in an index change set",
      "2:1 ALTER INDEX … ALTER COLUMN … SET STATISTICS (planner statistics belong in a migration of their own) does not belong in an index change set",
      "3:1 ALTER INDEX … RENAME does not belong in an index change set: verify, rollback and the usage history follow an index by its name",
      "4:1 DO statement does not belong in an index change set",
      "5:1 COPY statement does not belong in an index change set",
    ]);
  });
});
