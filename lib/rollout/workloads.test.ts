import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { parseWorkloads, WorkloadError } from "./workloads";

const block = (query: string, params = "SELECT org_id FROM orders LIMIT 200") =>
  `-- name: by_org\n-- index: orders_org\n-- params: ${params}\n${query}\n`;

async function refusal(text: string): Promise<string> {
  const err = await parseWorkloads("w.sql", text).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkloadError);
  return (err as Error).message;
}

describe("query patterns: what parses", () => {
  it("reads the repository's own file: six read-only SELECTs with their index and params query", async () => {
    const text = await readFile("sql/workloads/001_franchise_indexes.sql", "utf8");
    const parsed = await parseWorkloads("001_franchise_indexes.sql", text);
    expect(parsed.map((w) => w.name)).toEqual([
      "franchise_overview",
      "franchise_rankings",
      "franchise_budgets",
      "inventory_batches",
      "purchase_orders",
      "payments",
    ]);
    expect(parsed[4]).toEqual({
      name: "purchase_orders",
      index: "idx_po_org_status_created",
      paramsQuery: "SELECT org_id, status FROM purchase_orders TABLESAMPLE SYSTEM (1) LIMIT 200",
      query: "SELECT * FROM purchase_orders WHERE org_id = $1 AND status = $2 ORDER BY created_at DESC LIMIT 50",
    });
  });

  it("lets through the SELECTs an application runs: joins, CTEs that read, functions that only compute, a multi-line query", async () => {
    const query = [
      "WITH recent AS (SELECT * FROM orders WHERE created_at > now() - interval '1 day')",
      "SELECT o.id, lower(o.status), count(*) OVER ()",
      "  FROM recent o JOIN orders p ON p.id = o.id -- same table, twice",
      " WHERE o.org_id = $1",
      " ORDER BY o.created_at DESC LIMIT 10;",
    ].join("\n");
    const [w] = await parseWorkloads("w.sql", block(query));
    expect(w.query).toBe(query.replace(/;$/, ""));
  });

  it("reads no patterns from an empty text", async () => {
    expect(await parseWorkloads("w.sql", "")).toEqual([]);
  });
});

describe("query patterns: what is refused, with file:line:column", () => {
  it("a statement that writes, at the line and column it starts", async () => {
    expect(await refusal(block("DELETE FROM orders WHERE org_id = $1;"))).toBe(
      "w.sql:4:1: workload by_org: query: DeleteStmt is not a SELECT; only read-only SELECTs run on the target",
    );
  });

  it("a second statement after the SELECT", async () => {
    expect(await refusal(block("SELECT * FROM orders WHERE org_id = $1; DROP TABLE orders;"))).toBe(
      "w.sql:4:41: workload by_org: query: 2 statements; a query pattern is exactly one SELECT",
    );
  });

  it("a data-modifying WITH inside a SELECT", async () => {
    expect(await refusal(block("WITH d AS (\n  DELETE FROM orders RETURNING id\n) SELECT * FROM d WHERE id = $1;"))).toMatch(
      /^w\.sql:4:6: workload by_org: query: a DELETE inside the SELECT; a query pattern only reads$/,
    );
  });

  it("SELECT INTO, FOR UPDATE and a side-effect function, each named", async () => {
    expect(await refusal(block("SELECT * INTO stolen FROM orders WHERE org_id = $1;"))).toMatch(
      /^w\.sql:4:\d+: .*SELECT INTO creates a table/,
    );
    expect(await refusal(block("SELECT * FROM orders WHERE org_id = $1 FOR UPDATE;"))).toMatch(
      /^w\.sql:4:\d+: .*FOR UPDATE\/SHARE locks rows/,
    );
    expect(await refusal(block("SELECT id, pg_terminate_backend(pid) FROM pg_stat_activity, orders WHERE org_id = $1;"))).toBe(
      "w.sql:4:12: workload by_org: query: pg_terminate_backend() acts beyond reading; a query pattern only reads",
    );
    expect(await refusal(block("SELECT pg_catalog.set_config('search_path', 'evil', false) FROM orders WHERE org_id = $1;"))).toMatch(
      /^w\.sql:4:8: .*set_config\(\) acts beyond reading/,
    );
  });

  it("a params query that is not one SELECT, at its column on the header line", async () => {
    expect(await refusal(block("SELECT * FROM orders WHERE org_id = $1;", "SELECT org_id FROM orders; DROP TABLE orders"))).toBe(
      "w.sql:3:39: workload by_org: params: 2 statements; a query pattern is exactly one SELECT",
    );
    expect(await refusal(block("SELECT * FROM orders WHERE org_id = $1;", "SELECT org_id FROM orders WHERE id = $1"))).toMatch(
      /^w\.sql:3:\d+: .*a \$n parameter; the params query runs without any/,
    );
  });

  it("a syntax error, where the parser stopped, counting characters as people do", async () => {
    expect(await refusal(block("SELECT * FROM orders WHERE née = = $1;"))).toBe(
      'w.sql:4:34: workload by_org: query: syntax error at or near "="',
    );
  });

  it("missing headers, a missing query, a duplicate or unsafe name", async () => {
    expect(await refusal("-- name: a\n-- params: SELECT 1\nSELECT 1;\n")).toBe("w.sql:1:1: workload a has no -- index: line");
    expect(await refusal("-- name: a\n-- index: i\n-- params: SELECT 1\n")).toBe("w.sql:1:1: workload a has no query");
    expect(await refusal(block("SELECT 1;") + block("SELECT 2;"))).toBe("w.sql:5:10: workload by_org is declared twice");
    expect(await refusal('-- name: a"b\n')).toBe("w.sql:1:10: workload name \"a\\\"b\": 1-100 letters, digits, '.', '_' or '-'");
    expect(await refusal("SELECT 1;\n")).toBe("w.sql:1:1: a query before any -- name: line");
  });
});
