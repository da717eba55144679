import * as z from "zod";
import type { NodeIndexRow } from "./index-report";
import type { UsageSummary } from "./usage";

export interface IndexTableRow {
  name: string;
  table: string;
  now: number | null;
  d1: number | null;
  d7: number | null;
  d30: number | null;
  /** Over every node that answered; `nodeScans` has each node's (null: no answer). */
  scans: number;
  nodeScans: Record<string, number | null>;
  bytes: number;
  valid: boolean;
  definition: string;
}

export const SORT_KEYS = ["name", "table", "now", "d1", "d7", "d30", "scans", "bytes", "valid"] as const;
export const PAGE_SIZE = 50;

/** The table's URL parameters. Anything malformed falls back to the default rather than failing the page. */
export const IndexTableQuery = z.object({
  q: z.string().max(200).catch(""),
  sort: z.enum(SORT_KEYS).catch("bytes"),
  dir: z.enum(["asc", "desc"]).catch("desc"),
  page: z.coerce.number().int().min(1).max(1_000_000).catch(1),
});
export type IndexTableQuery = z.infer<typeof IndexTableQuery>;

export function indexTableRows(indexes: NodeIndexRow[], usage: Map<string, UsageSummary>): IndexTableRow[] {
  return indexes.map((r) => {
    const u = usage.get(`${r.schema}.${r.name}`);
    return {
      name: `${r.schema}.${r.name}`,
      table: r.table,
      now: u?.perMinuteNow ?? null,
      d1: u?.perMinute24h ?? null,
      d7: u?.perMinute7d ?? null,
      d30: u?.perMinute30d ?? null,
      scans: r.scans,
      nodeScans: r.nodeScans,
      bytes: r.bytes,
      valid: r.valid,
      definition: r.definition,
    };
  });
}

export interface IndexTablePage {
  rows: IndexTableRow[];
  total: number;
  page: number;
  pages: number;
}

// What localeCompare() does, without building its collation again on every call.
const collate = new Intl.Collator().compare;

/** The rows a search finds, in the asked order. Missing rates sort below every number. */
function searchAndSort(rows: IndexTableRow[], query: IndexTableQuery): IndexTableRow[] {
  const q = query.q.trim().toLowerCase();
  const found = q ? rows.filter((r) => `${r.name} ${r.table} ${r.definition}`.toLowerCase().includes(q)) : [...rows];
  const key = query.sort;
  found.sort((a, b) => {
    const x = a[key] ?? -1;
    const y = b[key] ?? -1;
    const c = typeof x === "string" || typeof y === "string" ? collate(String(x), String(y)) : Number(x) - Number(y);
    return (query.dir === "desc" ? -c : c) || collate(a.name, b.name);
  });
  return found;
}

function pageOf(found: IndexTableRow[], query: IndexTableQuery): IndexTablePage {
  const pages = Math.max(1, Math.ceil(found.length / PAGE_SIZE));
  const page = Math.min(query.page, pages);
  return { rows: found.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE), total: found.length, page, pages };
}

/**
 * One page of the table, searched and sorted on the server: a target with thousands of indexes
 * sends the browser fifty rows, not all of them.
 */
export function indexTablePage(rows: IndexTableRow[], query: IndexTableQuery): IndexTablePage {
  return pageOf(searchAndSort(rows, query), query);
}

// Per catalog read and usage read (both kept for a collector interval), the sorted rows of the last
// few searches: joining and sorting 1,000 indexes on every view cost more than rendering the page.
const sortedRows = new WeakMap<NodeIndexRow[], WeakMap<Map<string, UsageSummary>, Map<string, IndexTableRow[]>>>();
const SEARCHES_KEPT = 32;

/** The Indexes page's table: indexTablePage over the catalog and usage rates, sorted once per read of either. */
export function indexTableView(indexes: NodeIndexRow[], usage: Map<string, UsageSummary>, query: IndexTableQuery): IndexTablePage {
  let byUsage = sortedRows.get(indexes);
  if (!byUsage) sortedRows.set(indexes, (byUsage = new WeakMap()));
  let searches = byUsage.get(usage);
  if (!searches) byUsage.set(usage, (searches = new Map()));
  const key = JSON.stringify([query.q.trim().toLowerCase(), query.sort, query.dir]);
  let found = searches.get(key);
  if (!found) {
    found = searchAndSort(indexTableRows(indexes, usage), query);
    if (searches.size >= SEARCHES_KEPT) searches.clear();
    searches.set(key, found);
  }
  return pageOf(found, query);
}
