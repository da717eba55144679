import { readFile } from "node:fs/promises";
import path from "node:path";

export const WORKLOAD_DIR = path.join(process.cwd(), "sql", "workloads");

export interface Workload {
  name: string;
  index: string;
  paramsQuery: string;
  query: string;
}

export class WorkloadError extends Error {}

/**
 * Reads the query patterns a change set is meant to speed up: sql/workloads/<same file name>.
 * Blocks of `-- name:`, `-- index:`, `-- params:` header lines, then the query up to its `;`.
 */
export function parseWorkloads(file: string, text: string): Workload[] {
  const out: Workload[] = [];
  let current: Partial<Workload> & { startLine?: number } = {};
  let body: string[] = [];
  const lines = text.split("\n");
  const flush = (lineNo: number) => {
    if (!current.name) return;
    const query = body.join("\n").trim().replace(/;\s*$/, "");
    for (const key of ["index", "paramsQuery"] as const) {
      if (!current[key])
        throw new WorkloadError(
          `${file}:${current.startLine}: workload ${current.name} has no ${key === "index" ? "-- index:" : "-- params:"} line`,
        );
    }
    if (!query) throw new WorkloadError(`${file}:${lineNo}: workload ${current.name} has no query`);
    out.push({ name: current.name, index: current.index!, paramsQuery: current.paramsQuery!, query });
    current = {};
    body = [];
  };
  lines.forEach((line, i) => {
    const header = /^--\s*(name|index|params):\s*(.+)$/.exec(line.trim());
    if (header) {
      if (header[1] === "name") {
        flush(i + 1);
        current = { name: header[2].trim(), startLine: i + 1 };
      } else if (header[1] === "index") current.index = header[2].trim();
      else current.paramsQuery = header[2].trim();
    } else if (current.name && !line.trim().startsWith("--")) {
      body.push(line);
    }
  });
  flush(lines.length);
  return out;
}

export async function workloadsFor(changesetName: string, dir = WORKLOAD_DIR): Promise<Workload[]> {
  let text: string;
  try {
    text = await readFile(path.join(dir, path.basename(changesetName)), "utf8");
  } catch {
    return [];
  }
  return parseWorkloads(changesetName, text);
}

/**
 * Parameter rows for a query pattern. TABLESAMPLE keeps sampling cheap on big tables but can return
 * nothing on small ones; then the same query runs without it (its LIMIT still bounds the cost).
 */
export async function sampleParams(
  db: { query: (sql: string) => Promise<{ rows: Array<Record<string, unknown>> }> },
  w: Workload,
): Promise<unknown[][]> {
  let { rows } = await db.query(w.paramsQuery);
  if (!rows.length && /TABLESAMPLE/i.test(w.paramsQuery)) {
    ({ rows } = await db.query(w.paramsQuery.replace(/TABLESAMPLE\s+\w+\s*\([^)]*\)(\s*REPEATABLE\s*\([^)]*\))?/i, "")));
  }
  return rows.map((r) => Object.values(r));
}
