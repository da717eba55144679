"use client";

import { formatBytes } from "@/lib/text/format";
import type { IndexTableQuery, IndexTableRow } from "@/lib/monitor/index-table";

const COLUMNS: Array<[IndexTableQuery["sort"], string]> = [
  ["name", "Index"],
  ["table", "Table"],
  ["now", "Scans/min now"],
  ["d1", "24 h"],
  ["d7", "7 d"],
  ["d30", "30 d"],
  ["scans", "Scans (since reset)"],
  ["bytes", "Size"],
  ["valid", "Valid"],
];

const rate = (v: number | null) => (v === null ? "—" : v < 10 ? v.toFixed(2) : Math.round(v).toLocaleString("en"));

/**
 * One page of a target's indexes; sorting, search and paging are links, done on the server. Plain
 * anchors, not next/link: fifty rows of Links would each prefetch an index page as they scroll into
 * view, and cost more to render than the rows themselves.
 */
export function IndexTable({
  targetId,
  query,
  page,
}: {
  targetId: string;
  query: IndexTableQuery;
  page: { rows: IndexTableRow[]; total: number; page: number; pages: number };
}) {
  const href = (change: Partial<IndexTableQuery>) => {
    const next = { ...query, ...change };
    const params = new URLSearchParams({ target: targetId, sort: next.sort, dir: next.dir, page: String(next.page) });
    if (next.q) params.set("q", next.q);
    return `/indexes?${params}`;
  };
  return (
    <>
      <form method="get" action="/indexes" className="phase-form" style={{ marginBottom: 8 }}>
        <input type="hidden" name="target" value={targetId} />
        <input type="hidden" name="sort" value={query.sort} />
        <input type="hidden" name="dir" value={query.dir} />
        <input type="search" name="q" placeholder="Search indexes…" aria-label="Search indexes" defaultValue={query.q} />
        <button type="submit" className="secondary">
          Search
        </button>
        <span className="who" data-testid="index-count">
          {page.total.toLocaleString("en")} index(es){query.q ? ` matching “${query.q}”` : ""}; page {page.page} of {page.pages}
        </span>
      </form>
      <table data-testid="index-table">
        <thead>
          <tr>
            {COLUMNS.map(([key, label]) => (
              <th key={key}>
                <a href={href({ sort: key, dir: query.sort === key && query.dir === "desc" ? "asc" : "desc", page: 1 })}>
                  {label}
                  {query.sort === key ? (query.dir === "desc" ? " ▼" : " ▲") : ""}
                </a>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {page.rows.map((r) => (
            <tr key={r.name}>
              <td>
                <a href={`/indexes/${encodeURIComponent(targetId)}/${encodeURIComponent(r.name)}`} title={r.definition}>
                  <code>{r.name}</code>
                </a>
              </td>
              <td>{r.table}</td>
              <td>{rate(r.now)}</td>
              <td>{rate(r.d1)}</td>
              <td>{rate(r.d7)}</td>
              <td>{rate(r.d30)}</td>
              <td>
                {r.scans.toLocaleString("en")}
                {/* With replicas, where the scans happen: an index may serve only the replicas' reads. */}
                {Object.keys(r.nodeScans).length > 1 && (
                  <span className="who" data-node-scans>
                    {Object.entries(r.nodeScans).map(([node, n]) => (
                      <span key={node} style={{ display: "block" }}>
                        {node}: {n === null ? "no answer" : n.toLocaleString("en")}
                      </span>
                    ))}
                  </span>
                )}
              </td>
              <td>{formatBytes(r.bytes)}</td>
              <td className={r.valid ? "ok" : "bad"}>{r.valid ? "yes" : "INVALID"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {page.pages > 1 && (
        <p className="phase-form" data-testid="index-pager">
          {page.page > 1 && <a href={href({ page: page.page - 1 })}>← previous</a>}
          {page.page < page.pages && <a href={href({ page: page.page + 1 })}>next →</a>}
        </p>
      )}
    </>
  );
}
