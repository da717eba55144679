"use client";

import Link from "next/link";
import { useMemo, useState } from "react";

interface Row {
  name: string;
  table: string;
  now: number | null;
  d1: number | null;
  d7: number | null;
  d30: number | null;
  scans: number;
  bytes: number;
  valid: boolean;
  definition: string;
}

const COLUMNS: Array<[keyof Row, string]> = [
  ["name", "Index"], ["table", "Table"], ["now", "Scans/min now"], ["d1", "24 h"], ["d7", "7 d"], ["d30", "30 d"], ["scans", "Scans (since reset)"], ["bytes", "Size"], ["valid", "Valid"],
];

const rate = (v: number | null) => (v === null ? "—" : v < 10 ? v.toFixed(2) : Math.round(v).toLocaleString("en"));

/** Every index of a target, sortable by any column and searchable by name, table or definition. */
export function IndexTable({ targetId, rows }: { targetId: string; rows: Row[] }) {
  const [query, setQuery] = useState("");
  const [sort, setSort] = useState<{ key: keyof Row; desc: boolean }>({ key: "bytes", desc: true });
  const shown = useMemo(() => {
    const q = query.toLowerCase();
    const filtered = rows.filter((r) => !q || `${r.name} ${r.table} ${r.definition}`.toLowerCase().includes(q));
    return filtered.sort((a, b) => {
      const x = a[sort.key] ?? -1;
      const y = b[sort.key] ?? -1;
      const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
      return sort.desc ? -c : c;
    });
  }, [rows, query, sort]);
  return (
    <>
      <input type="search" placeholder="Search indexes…" aria-label="Search indexes" value={query} onChange={(e) => setQuery(e.target.value)} style={{ marginBottom: 8 }} />
      <table data-testid="index-table">
        <thead>
          <tr>
            {COLUMNS.map(([key, label]) => (
              <th key={key}><button className="secondary" onClick={() => setSort({ key, desc: sort.key === key ? !sort.desc : true })}>{label}{sort.key === key ? (sort.desc ? " ▼" : " ▲") : ""}</button></th>
            ))}
          </tr>
        </thead>
        <tbody>
          {shown.map((r) => (
            <tr key={r.name}>
              <td><Link href={`/indexes/${encodeURIComponent(targetId)}/${encodeURIComponent(r.name)}`} title={r.definition}><code>{r.name}</code></Link></td>
              <td>{r.table}</td><td>{rate(r.now)}</td><td>{rate(r.d1)}</td><td>{rate(r.d7)}</td><td>{rate(r.d30)}</td>
              <td>{r.scans.toLocaleString("en")}</td><td>{(r.bytes / 2 ** 20).toFixed(1)} MiB</td><td className={r.valid ? "ok" : "bad"}>{r.valid ? "yes" : "INVALID"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
