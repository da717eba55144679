import { describe, expect, it } from "vitest";
import { findings } from "./testing";

describe("system-catalog", () => {
  it("fires on catalog tables and indexes, qualified or by their pg_ name", async () => {
    const sql =
      "REINDEX TABLE CONCURRENTLY pg_class;\nCREATE INDEX CONCURRENTLY x ON pg_catalog.pg_attribute (attname);\nDROP INDEX CONCURRENTLY pg_toast.pg_toast_1_index;\nCOMMENT ON INDEX pg_class_oid_index IS 'x';\nANALYZE information_schema.sql_parts;\n";
    const found = await findings("system-catalog", sql);
    expect(found.map((f) => f.split(" ")[0])).toEqual(["1:1", "2:1", "3:1", "4:1", "5:1"]);
    expect(found[0]).toBe(
      "1:1 pg_class is a system catalog object (pg_catalog comes first on the apply session's search_path): a rollout never touches catalogs",
    );
  });
  it("does not fire on user tables", async () => {
    expect(
      await findings(
        "system-catalog",
        "CREATE INDEX CONCURRENTLY a ON public.orders (x);\nREINDEX TABLE CONCURRENTLY app.page;\nANALYZE orders;\n",
      ),
    ).toEqual([]);
  });
});
