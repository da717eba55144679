import { describe, expect, it } from "vitest";
import { IndexTableQuery, indexTablePage, PAGE_SIZE, type IndexTableRow } from "./index-table";

const row = (i: number, extra: Partial<IndexTableRow> = {}): IndexTableRow => ({
  name: `public.idx_${String(i).padStart(4, "0")}`, table: i % 2 ? "orders" : "payments", now: i % 10 === 0 ? null : i, d1: null, d7: null, d30: null,
  scans: 1000 - i, bytes: i * 8192, valid: true, definition: `CREATE INDEX idx_${i} ON t (c${i % 7})`, ...extra,
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
    expect(IndexTableQuery.parse({ sort: "password", dir: "sideways", page: "-4", q: "x".repeat(500) })).toEqual({ q: "", sort: "bytes", dir: "desc", page: 1 });
    expect(indexTablePage(rows, IndexTableQuery.parse({ page: "999" })).page).toBe(3);
    expect(indexTablePage([], IndexTableQuery.parse({}))).toEqual({ rows: [], total: 0, page: 1, pages: 1 });
  });
});
