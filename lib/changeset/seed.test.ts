import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { lintText } from "./lint";

describe("the seed's change set, sql/indexes/001_franchise_indexes.sql", () => {
  it("has six concurrent indexes and no errors, but every build runs under the 30 s statement_timeout", async () => {
    const text = await readFile("sql/indexes/001_franchise_indexes.sql", "utf8");
    const r = await lintText({ file: "001", text });
    expect(r.statements).toBe(8);
    expect(r.indexes).toEqual([
      "idx_fr_overview_org_period",
      "idx_fr_rankings_org_metric_period",
      "idx_fr_budgets_org_cc_period",
      "idx_inv_batches_org_sku",
      "idx_po_org_status_created",
      "idx_payments_org_status_created",
    ]);
    expect(r.findings.filter((f) => f.severity === "error")).toEqual([]);
    expect(r.findings.map((f) => `${f.line} ${f.rule}`)).toEqual([12, 16, 20, 24, 28, 32].map((l) => `${l} statement-timeout-risk`));
  });
});
