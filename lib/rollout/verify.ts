import { parseSync } from "../changeset/pg-parser";
import type pg from "pg";
import { parserReady } from "../changeset/parse";
import { withoutLocations } from "../changeset/nodes";
import { quoteIdent, quoteQualified } from "../sql/quote";
import { indexState, type IndexState } from "../targets/catalog";
import { leafCoverage, type LeafCoverage } from "../targets/partitions";
import { withTargetClient } from "../targets/connect";
import { explainQuery } from "../targets/explain";
import type { TargetConfig } from "../targets/config";
import type { PlannedTask } from "./plan";
import type { CheckResult, VerifyReport } from "./rollouts";
import { sampleParams, type Workload } from "./workloads";

/** The comparable shape of a CREATE INDEX: positions, CONCURRENTLY, IF NOT EXISTS and schema left out. */
function definitionShape(sql: string): string {
  const stmt = (parseSync(sql) as { stmts: Array<{ stmt: { IndexStmt: Record<string, unknown> } }> }).stmts[0].stmt.IndexStmt;
  const relation = stmt.relation as { relname: string };
  return JSON.stringify(
    withoutLocations({
      table: relation.relname,
      method: stmt.accessMethod ?? "btree",
      unique: !!stmt.unique,
      params: stmt.indexParams,
      including: stmt.indexIncludingParams ?? [],
      where: stmt.whereClause ?? null,
    }),
  );
}

/** Each created index exists, is valid and ready, matches its statement; each workload's plan uses it. */
export async function runVerify(target: TargetConfig, tasks: PlannedTask[], workloads: Workload[]): Promise<VerifyReport> {
  await parserReady();
  const created = tasks.filter((t) => t.kind === "create_index");
  return withTargetClient(
    target,
    async (db) => {
      const indexes: CheckResult[] = [];
      const amcheck = await amcheckSchema(db);
      for (const t of created) indexes.push(await verifyIndex(db, t, amcheck));
      const names = new Set(created.map((t) => t.indexName));
      const plans: CheckResult[] = [];
      for (const w of workloads.filter((x) => names.has(x.index))) plans.push(await verifyPlan(db, w));
      const ok = [...indexes, ...plans].every((c) => c.status === "pass");
      return { at: new Date().toISOString(), ok, indexes, plans };
    },
    { applicationName: "indexdeck:verify", statementTimeoutMs: 15_000 },
  );
}

async function verifyIndex(db: pg.ClientBase, t: PlannedTask, amcheck: string | null): Promise<CheckResult> {
  const name = quoteQualified(t.schemaName, t.indexName!);
  const s = await indexState(db, name);
  const base = { id: `index:${t.indexName}`, title: t.indexName! };
  if (!s.exists) return { ...base, status: "fail", summary: "does not exist", evidence: s };
  if (!s.valid || !s.ready)
    return { ...base, status: "fail", summary: `exists but indisvalid=${s.valid}, indisready=${s.ready}`, evidence: s };
  const matches = definitionShape(s.definition!) === definitionShape(t.statement);
  if (!matches)
    return {
      ...base,
      status: "fail",
      summary: `definition differs from the change set: ${s.definition}`,
      evidence: { ...s, expected: t.statement },
    };
  const leaves = await leafCoverage(db, name);
  if (leaves) return verifyPartitioned(db, t, s, leaves, amcheck);
  const sound = await checkBtree(db, name, definitionMethod(t.statement), amcheck);
  const evidence = { ...s, expected: t.statement, amcheck: sound };
  if (sound.status === "corrupt")
    return { ...base, status: "fail", summary: `amcheck bt_index_check found a problem: ${sound.detail}`, evidence };
  return {
    ...base,
    status: "pass",
    summary: `valid and ready, ${((s.bytes ?? 0) / 2 ** 20).toFixed(1)} MiB, definition matches; ${sound.detail}`,
    evidence,
  };
}

/**
 * A partitioned index is valid once every leaf has a valid index attached below it; that is checked
 * leaf by leaf rather than trusted, and amcheck reads each leaf's B-tree (the parent has no pages).
 */
async function verifyPartitioned(
  db: pg.ClientBase,
  t: PlannedTask,
  s: IndexState,
  leaves: LeafCoverage[],
  amcheck: string | null,
): Promise<CheckResult> {
  const base = { id: `index:${t.indexName}`, title: t.indexName! };
  const method = definitionMethod(t.statement);
  const checked = [];
  for (const l of leaves)
    checked.push({
      ...l,
      amcheck: l.index && l.valid ? await checkBtree(db, quoteQualified(l.schema, l.index), method, amcheck) : null,
    });
  const evidence = { ...s, expected: t.statement, leaves: checked };
  const missing = checked.filter((l) => !l.index || !l.valid);
  if (missing.length)
    return {
      ...base,
      status: "fail",
      summary: `partitions without a valid attached index: ${missing.map((l) => `${l.schema}.${l.table}${l.index ? ` (${l.index} INVALID)` : ""}`).join(", ")}`,
      evidence,
    };
  const corrupt = checked.filter((l) => l.amcheck?.status === "corrupt");
  if (corrupt.length)
    return {
      ...base,
      status: "fail",
      summary: `amcheck bt_index_check found a problem: ${corrupt.map((l) => `${l.index}: ${l.amcheck!.detail}`).join("; ")}`,
      evidence,
    };
  const measured = checked.filter((l) => l.amcheck?.status === "ok").length;
  const amcheckNote =
    measured === checked.length
      ? "amcheck bt_index_check: ok on every partition"
      : (checked.find((l) => l.amcheck?.status !== "ok")?.amcheck?.detail ?? "");
  return {
    ...base,
    status: "pass",
    summary: `valid and ready, definition matches; all ${leaves.length} partitions have a valid attached index; ${amcheckNote}`,
    evidence,
  };
}

function definitionMethod(sql: string): string {
  const stmt = (parseSync(sql) as { stmts: Array<{ stmt: { IndexStmt: { accessMethod?: string } } }> }).stmts[0].stmt.IndexStmt;
  return stmt.accessMethod ?? "btree";
}

/** The schema amcheck is installed in on the target, or null when it isn't. */
async function amcheckSchema(db: pg.ClientBase): Promise<string | null> {
  const { rows } = await db.query<{ schema: string }>(
    `SELECT n.nspname AS schema
       FROM pg_extension e
       JOIN pg_namespace n ON n.oid = e.extnamespace
      WHERE e.extname = 'amcheck'`,
  );
  return rows[0]?.schema ?? null;
}

type Soundness = { status: "ok" | "corrupt" | "not_measured"; detail: string };

/**
 * A valid index is not yet a sound one: amcheck's bt_index_check reads the new B-tree's pages and
 * checks their order and structure, under an AccessShareLock only (writes go on). Where amcheck isn't
 * installed, or the role may not run it, the answer is "not measured", never a pass.
 */
async function checkBtree(db: pg.ClientBase, index: string, method: string, schema: string | null): Promise<Soundness> {
  if (method !== "btree")
    return { status: "not_measured", detail: `amcheck: not measured (a ${method} index; bt_index_check reads B-trees)` };
  if (!schema)
    return {
      status: "not_measured",
      detail:
        "amcheck: not measured (amcheck not installed: CREATE EXTENSION amcheck, and GRANT EXECUTE on bt_index_check to the target role)",
    };
  try {
    await db.query(`SELECT ${quoteIdent(schema)}.bt_index_check($1::regclass, false)`, [index]);
    return { status: "ok", detail: "amcheck bt_index_check: ok" };
  } catch (err) {
    const code = (err as { code?: string }).code;
    // 42501: the role may not run it; anything else is amcheck's own verdict (XX002 index corrupted, and the like).
    if (code === "42501") return { status: "not_measured", detail: "amcheck: not measured (this role may not execute bt_index_check)" };
    return { status: "corrupt", detail: (err as Error).message };
  }
}

// The plan of a query pattern depends on its parameters (a common org and status can make another
// index or a scan cheaper), so one sampled set decided the check by chance. Several sets are explained
// and the pattern uses the index when most of them do.
const PLAN_SAMPLES = 5;

/** Whether a query pattern uses its index: EXPLAIN with parameters sampled from the target. */
export async function verifyPlan(db: pg.ClientBase, w: Workload): Promise<CheckResult> {
  const base = { id: `plan:${w.name}`, title: `${w.name} uses ${w.index}`, code: "planner_not_using_index" as const };
  try {
    await db.query("BEGIN READ ONLY");
    const samples = await sampleParams(db, w);
    if (!samples.length)
      return { ...base, status: "warn", summary: "no rows to sample parameters from (the table is empty)", evidence: { query: w.query } };
    const n = Math.min(PLAN_SAMPLES, samples.length);
    const explained = [];
    for (let i = 0; i < n; i++) {
      const params = samples[Math.floor((i * samples.length) / n)];
      explained.push({ params, plan: await explainQuery(db, w.query, params) });
    }
    const using = explained.filter((e) => e.plan.indexesUsed.includes(w.index));
    const evidence = { query: w.query, explained };
    if (using.length * 2 > n) {
      const { plan } = using[0];
      return {
        ...base,
        status: "pass",
        summary: `${plan.topNode}, uses ${w.index} for ${using.length} of ${n} sampled parameter sets (cost ${plan.totalCost})`,
        evidence,
      };
    }
    const other = explained.find((e) => !e.plan.indexesUsed.includes(w.index))!.plan;
    return {
      ...base,
      status: "fail",
      evidence,
      summary: `uses ${w.index} for ${using.length} of ${n} sampled parameter sets; otherwise the planner chose ${other.indexesUsed.join(", ") || other.topNode}; statistics may be stale: run ANALYZE on the table, or check selectivity`,
    };
  } catch (err) {
    return { ...base, status: "fail", summary: `EXPLAIN failed: ${(err as Error).message}`, evidence: { query: w.query } };
  } finally {
    await db.query("ROLLBACK").catch(() => undefined);
  }
}
