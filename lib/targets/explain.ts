import type pg from "pg";

export interface PlanSummary {
  indexesUsed: string[];
  topNode: string;
  totalCost: number;
}

interface PlanNode {
  "Node Type": string;
  "Index Name"?: string;
  "Total Cost": number;
  Plans?: PlanNode[];
}

/** EXPLAIN (FORMAT JSON) of a query with bound parameters; never ANALYZE, so nothing runs. */
export async function explainQuery(db: pg.ClientBase, query: string, params: unknown[]): Promise<PlanSummary> {
  const {
    rows: [row],
  } = await db.query<{ "QUERY PLAN": Array<{ Plan: PlanNode }> }>(`EXPLAIN (FORMAT JSON) ${query}`, params);
  const plan = row["QUERY PLAN"][0].Plan;
  const used: string[] = [];
  const stack = [plan];
  while (stack.length) {
    const n = stack.pop()!;
    if (n["Index Name"]) used.push(n["Index Name"]);
    stack.push(...(n.Plans ?? []));
  }
  return { indexesUsed: used, topNode: plan["Node Type"], totalCost: plan["Total Cost"] };
}
