import { describe, expect, it } from "vitest";
import type { NodeIndexRow } from "./index-report";
import { IndexTableQuery, indexTablePage, indexTableRows, indexTableView, PAGE_SIZE, type IndexTableRow } from "./index-table";
import type { UsageSummary } from "./usage";

const row = (i: number, extra: Partial<IndexTableRow> = {}): IndexTableRow => ({
  name: `public.idx_${String(i).padStart(4, "0")}`,
  table: i % 2 ? "orders" : "payments",
  now: i % 10 === 0 ? null : i,
  d1: null,
  d7: null,
  d30: null,
  scans: 1000 - i,
  nodeScans: { primary: 1000 - i },
  bytes: i * 8192,
  valid: true,
  definition: `CREATE INDEX idx_${i} ON t (c${i % 7})`,
  ...extra,
});
const rows = Array.from({ length: 120 }, (_, i) => row(i + 1));

describe("the Indexes table", () => {
  it("pages, sorts and searches on the server", () => {
    const first = indexTablePage(rows, IndexTableQuery.parse({}));
    expect(first).toMatchObject({ total: 120, page: 1, pages: 3 });
    expect(first.rows).toHaveLength(PAGE_SIZE);
    expect(first.rows[0].name).toBe("public.idx_0120"); // default: largest first
    const last = indexTablePage(rows, IndexTableQuery.parse({ page: "3" }));
    expect(last.rows).toHaveLength(20);
    const byNow = indexTablePage(rows, IndexTableQuery.parse({ sort: "now", dir: "asc" }));
    expect(byNow.rows.slice(0, 12).every((r) => r.now === null)).toBe(true); // no rate yet sorts below every number
    const found = indexTablePage(rows, IndexTableQuery.parse({ q: "PAYMENTS" }));
    expect(found.total).toBe(60);
    expect(found.rows.every((r) => r.table === "payments")).toBe(true);
    expect(indexTablePage(rows, IndexTableQuery.parse({ q: "c6)" })).total).toBe(17);
  });

  it("turns garbage parameters into the defaults and clamps the page", () => {
    expect(IndexTableQuery.parse({ sort: "password", dir: "sideways", page: "-4", q: "x".repeat(500) })).toEqual({
      q: "",
      sort: "bytes",
      dir: "desc",
      page: 1,
    });
    expect(indexTablePage(rows, IndexTableQuery.parse({ page: "999" })).page).toBe(3);
    expect(indexTablePage([], IndexTableQuery.parse({}))).toEqual({ rows: [], total: 0, page: 1, pages: 1 });
  });

  it("serves the page's table from rows sorted once per catalog and usage read, never from an older read", () => {
    const catalog = rows.map(
      (r) =>
        ({
          schema: "public",
          table: r.table,
          name: r.name.slice("public.".length),
          method: "btree",
          columns: ["c"],
          expressions: null,
          predicate: null,
          unique: false,
          constraint: null,
          valid: true,
          buildInProgress: false,
          scans: r.scans,
          nodeScans: r.nodeScans,
          tuplesRead: 0,
          tuplesFetched: 0,
          bytes: r.bytes,
          definition: r.definition,
        }) satisfies NodeIndexRow,
    );
    const rates = (k: number) =>
      new Map(
        rows.map((r, i): [string, UsageSummary] => [
          r.name,
          { indexKey: r.name, perMinuteNow: (i * k) % 97, perMinute24h: null, perMinute7d: null, perMinute30d: null },
        ]),
      );
    const usage = rates(7);
    for (const params of [
      {},
      { sort: "now" },
      { sort: "now", page: "2" },
      { q: "orders", sort: "name", dir: "asc" },
      { q: "ORDERS ", sort: "name", dir: "asc", page: "2" },
      { sort: "name", dir: "asc" },
    ]) {
      const query = IndexTableQuery.parse(params);
      expect(indexTableView(catalog, usage, query)).toEqual(indexTablePage(indexTableRows(catalog, usage), query));
      expect(indexTableView(catalog, usage, query)).toEqual(indexTablePage(indexTableRows(catalog, usage), query)); // and again, from what was kept
    }
    // The collector's next rates are a new read: the order follows them at once.
    const next = rates(13);
    const byNow = IndexTableQuery.parse({ sort: "now" });
    expect(indexTableView(catalog, next, byNow)).toEqual(indexTablePage(indexTableRows(catalog, next), byNow));
    expect(indexTableView(catalog, next, byNow).rows.map((r) => r.name)).not.toEqual(
      indexTableView(catalog, usage, byNow).rows.map((r) => r.name),
    );
  });
});
