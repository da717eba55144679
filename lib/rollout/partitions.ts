import { createHash } from "node:crypto";
import { parseSync, scanSync } from "../changeset/pg-parser";
import type pg from "pg";
import { withoutLocations } from "../changeset/nodes";
import { quoteIdent, quoteQualified } from "../sql/quote";
import { indexState, relationByName } from "../targets/catalog";
import { attachedTo, partitionTrees, relationBytes, type PartitionNode } from "../targets/partitions";
import type { ApplyResult, ApplySink, TaskPatch } from "./apply";
import { eventsOfKind, type EventData, type EventKind } from "./events";
import type { PlannedTask, RollbackIndex } from "./plan";
import type { CheckResult } from "./rollouts";

/**
 * CREATE INDEX CONCURRENTLY on a partitioned table, which PostgreSQL refuses, run as the recipe that
 * works: CREATE INDEX … ON ONLY on each partitioned table (instant, INVALID), a concurrent build on each
 * leaf partition, and ALTER INDEX … ATTACH PARTITION for each; the parent index turns valid when every
 * leaf has a valid attached index. The expansion is derived from the approved statement and the
 * target's catalog only; pre-check records it and apply refuses to start when the catalog says otherwise.
 */

export const PARTITION_STEP_KINDS = ["create_parent", "build", "attach"] as const;
export type PartitionStepKind = (typeof PARTITION_STEP_KINDS)[number];

export interface PartitionStep {
  kind: PartitionStepKind;
  statement: string;
  /** The index the step creates, or (attach) the one it attaches. */
  schema: string;
  index: string;
  /** That index's table. */
  table: string;
  /** attach: the partitioned index it is attached to. */
  parent: { schema: string; index: string } | null;
}

export interface PartitionPlan {
  /** The change set's task this expands. */
  seq: number;
  schema: string;
  index: string;
  table: string;
  steps: PartitionStep[];
}

/** Why a partitioned build can't go ahead; said before anything runs. */
export class PartitionError extends Error {}

/** The pre-check check that records the expanded plans; apply reads them from its evidence. */
export const PARTITIONS_CHECK = "partitions";

const MAX_IDENTIFIER_BYTES = 63;

/**
 * The name of the index indexdeck builds on a partition: `<index>_<partition>`, or, where that passes
 * PostgreSQL's 63 bytes, cut on a character boundary with a hash of both names so it stays distinct.
 */
export function partitionIndexName(index: string, partition: string): string {
  const whole = `${index}_${partition}`;
  if (Buffer.byteLength(whole) <= MAX_IDENTIFIER_BYTES) return whole;
  const tag = createHash("sha256").update(`${index}\0${partition}`).digest("hex").slice(0, 8);
  const chars = Array.from(whole);
  while (Buffer.byteLength(chars.join("")) > MAX_IDENTIFIER_BYTES - tag.length - 1) chars.pop();
  return `${chars.join("")}_${tag}`;
}

type Obj = Record<string, unknown>;

function indexStmt(sql: string): Obj {
  return (parseSync(sql) as { stmts: Array<{ stmt: { IndexStmt: Obj } }> }).stmts[0].stmt.IndexStmt;
}

/** An IndexStmt without what a step sets itself (name, table, CONCURRENTLY, IF NOT EXISTS) and without positions. */
function definition(stmt: Obj): string {
  const rest = Object.fromEntries(
    Object.entries(stmt).filter(([k]) => !["idxname", "relation", "concurrent", "if_not_exists"].includes(k)),
  );
  return JSON.stringify(withoutLocations(rest));
}

/**
 * The approved statement's text after its table name (`USING …`, the keys, INCLUDE, WITH, WHERE …),
 * found from the parse tree's position of the table and PostgreSQL's own scanner, so each step runs
 * the approved definition word for word on another table.
 */
function textAfterTable(statement: string): string {
  const relation = indexStmt(statement).relation as { location: number };
  const tokens = scanSync(statement).tokens;
  let i = tokens.findIndex((t) => t.start === relation.location);
  if (i < 0) throw new PartitionError(`cannot find the table in ${statement}`);
  const DOT = 46;
  while (tokens[i + 1]?.tokenType === DOT && tokens[i + 2]) i += 2;
  return Buffer.from(statement, "utf8").subarray(tokens[i].end).toString("utf8");
}

/**
 * One step's CREATE INDEX: the head written from data, the rest the approved text; parsed back and
 * compared with the approved statement, so a step can never build anything but the approved index.
 */
function stepStatement(
  approved: string,
  tail: string,
  step: { concurrent: boolean; only: boolean; schema: string; index: string; table: string },
): string {
  const original = indexStmt(approved);
  const sql = `CREATE ${original.unique ? "UNIQUE " : ""}INDEX ${step.concurrent ? "CONCURRENTLY " : ""}${quoteIdent(step.index)} ON ${step.only ? "ONLY " : ""}${quoteQualified(step.schema, step.table)}${tail}`;
  const made = indexStmt(sql);
  const relation = made.relation as { schemaname?: string; relname: string; inh?: boolean };
  const same =
    definition(made) === definition(original) &&
    made.idxname === step.index &&
    !!made.concurrent === step.concurrent &&
    relation.schemaname === step.schema &&
    relation.relname === step.table &&
    !relation.inh === step.only;
  if (!same) throw new PartitionError(`could not write the partition step for ${step.schema}.${step.table} from: ${approved}`);
  return sql;
}

/** The expansion of one CREATE INDEX CONCURRENTLY on a partitioned table, from its partition tree (root first). */
export function expandPartitioned(task: PlannedTask, tree: PartitionNode[]): PartitionPlan {
  const [root, ...rest] = tree;
  const tail = textAfterTable(task.statement);
  const key = (n: { schema: string; name: string }) => quoteQualified(n.schema, n.name);
  const indexOf = new Map<string, string>([[key(root), task.indexName!]]);
  const nameFor = (n: PartitionNode) => {
    const name = partitionIndexName(task.indexName!, n.name);
    indexOf.set(key(n), name);
    return name;
  };
  const parentOf = (n: PartitionNode) => ({ schema: n.parent!.schema, index: indexOf.get(key(n.parent!))! });
  const create = (n: PartitionNode, index: string, concurrent: boolean): PartitionStep => ({
    kind: concurrent ? "build" : "create_parent",
    statement: stepStatement(task.statement, tail, { concurrent, only: !concurrent, schema: n.schema, index, table: n.name }),
    schema: n.schema,
    index,
    table: n.name,
    parent: null,
  });
  const attach = (n: PartitionNode, index: string): PartitionStep => {
    const parent = parentOf(n);
    return {
      kind: "attach",
      statement: `ALTER INDEX ${quoteQualified(parent.schema, parent.index)} ATTACH PARTITION ${quoteQualified(n.schema, index)}`,
      schema: n.schema,
      index,
      table: n.name,
      parent,
    };
  };
  const steps: PartitionStep[] = [create(root, task.indexName!, false)];
  // Partitioned levels first, top-down (each attached at once: an INVALID index may be attached, and
  // turns valid when all below it are); then each leaf is built and attached straight after.
  for (const n of rest.filter((x) => x.relkind === "p")) {
    const index = nameFor(n);
    steps.push(create(n, index, false), attach(n, index));
  }
  for (const n of rest.filter((x) => x.relkind !== "p")) {
    if (n.relkind !== "r")
      throw new PartitionError(
        `partition ${n.schema}.${n.name} of ${root.schema}.${root.name} is a ${n.relkind === "f" ? "foreign table" : `relation of kind ${n.relkind}`}: PostgreSQL can't build an index on it concurrently`,
      );
    const index = nameFor(n);
    steps.push(create(n, index, true), attach(n, index));
  }
  return { seq: task.seq, schema: root.schema, index: task.indexName!, table: root.name, steps };
}

/** CREATE INDEX CONCURRENTLY statements (not ON ONLY) whose table is partitioned, expanded. */
export async function expandPartitionedTasks(db: pg.ClientBase, tasks: PlannedTask[]): Promise<PartitionPlan[]> {
  const builds = tasks.filter((t) => t.kind === "create_index" && t.concurrent && !t.only && t.indexName && t.tableName);
  const trees = await partitionTrees(
    db,
    builds.map((t) => quoteQualified(t.schemaName, t.tableName!)),
  );
  return builds.flatMap((t, i) => (trees[i].length ? [expandPartitioned(t, trees[i])] : []));
}

const leaves = (plan: PartitionPlan) => plan.steps.filter((s) => s.kind === "build");
const tableKey = (s: PartitionStep) => `${s.schema}.${s.table}`;

/** A plan as one comparable value (a plan read back from jsonb has its keys in another order). */
function planKey(plan: PartitionPlan | undefined): string {
  if (!plan) return "none";
  const steps = plan.steps.map((s) => [s.kind, s.statement, s.schema, s.index, s.table, s.parent?.schema ?? null, s.parent?.index ?? null]);
  return JSON.stringify([plan.seq, plan.schema, plan.index, plan.table, steps]);
}

/** What differs between the plan pre-check recorded and the one the catalog gives now, in a DBA's words. */
function planDifference(expected: PartitionPlan | undefined, actual: PartitionPlan | undefined, task: PlannedTask): string | null {
  if (planKey(expected) === planKey(actual)) return null;
  const what = `${task.indexName} on ${task.tableName}`;
  if (!expected) return `${task.tableName} is partitioned now but was not at pre-check`;
  if (!actual) return `${task.tableName} was partitioned at pre-check and is not now`;
  const before = new Set(expected.steps.map(tableKey));
  const now = new Set(actual.steps.map(tableKey));
  const added = [...now].filter((t) => !before.has(t));
  const gone = [...before].filter((t) => !now.has(t));
  const parts = [
    added.length ? `added since pre-check: ${added.join(", ")}` : null,
    gone.length ? `gone since pre-check: ${gone.join(", ")}` : null,
  ].filter(Boolean);
  return `the partitions of ${what} differ from pre-check (${parts.join("; ") || "their order or levels changed"})`;
}

/** Indexes (quoteQualified) a rollout's applies began to create on partitions: theirs to resume and to roll back. */
export async function ownedPartitionIndexes(db: Pick<pg.Pool, "query">, rolloutId: number): Promise<Set<string>> {
  const started = await eventsOfKind(db, rolloutId, "partition_start");
  return new Set(started.filter((e) => e.data.kind !== "attach").map((e) => quoteQualified(String(e.data.schema), String(e.data.index))));
}

/** The plans pre-check recorded for a rollout; none when pre-check found no partitioned table. */
export function recordedPlans(precheck: { checks: CheckResult[] } | null | undefined): PartitionPlan[] {
  const check = precheck?.checks.find((c) => c.id === PARTITIONS_CHECK);
  return ((check?.evidence as { plans?: PartitionPlan[] } | undefined)?.plans ?? []).slice();
}

export interface PartitionOptions {
  /** The plans recorded at pre-check; apply refuses to start when the catalog gives others. Absent: the CLI's direct apply, which expands as it goes. */
  expected?: readonly PartitionPlan[];
  /** Indexes this rollout created before (resume); any other index already there under a step's name is refused. */
  owned?: ReadonlySet<string>;
}

/**
 * Before apply touches anything: the expansion the catalog gives now, compared with pre-check's, and no
 * step's index already on the target unless this rollout made it. Throws a PartitionError naming what differs.
 */
export async function preparePartitions(
  db: pg.ClientBase,
  tasks: PlannedTask[],
  opts: PartitionOptions,
): Promise<Map<number, PartitionPlan>> {
  const plans = new Map((await expandPartitionedTasks(db, tasks)).map((p) => [p.seq, p]));
  const problems: string[] = [];
  for (const t of tasks) {
    const actual = plans.get(t.seq);
    if (opts.expected) {
      const differs = planDifference(
        opts.expected.find((p) => p.seq === t.seq),
        actual,
        t,
      );
      if (differs) problems.push(differs);
    }
    if (actual) problems.push(...(await foreignIndexes(db, t, actual, opts.owned ?? new Set())));
  }
  if (problems.length)
    throw new PartitionError(
      `${problems.join("; ")}: nothing was run. Run pre-check again to expand the plan against the partitions as they are now`,
    );
  return plans;
}

/** Step indexes already on the target that this rollout did not create (a valid root kept by IF NOT EXISTS aside). */
async function foreignIndexes(db: pg.ClientBase, task: PlannedTask, plan: PartitionPlan, owned: ReadonlySet<string>): Promise<string[]> {
  const root = await indexState(db, quoteQualified(plan.schema, plan.index));
  if (root.exists && root.valid && task.ifNotExists) return [];
  const found: string[] = [];
  for (const s of plan.steps.filter((x) => x.kind !== "attach")) {
    const name = quoteQualified(s.schema, s.index);
    if (!owned.has(name) && (await indexState(db, name)).exists)
      found.push(`index ${s.schema}.${s.index} (for ${s.schema}.${s.table}) already exists and was not created by this rollout`);
  }
  return found;
}

/** For a hand-written ON ONLY: refused unless the table is partitioned, where ONLY creates just the parent's index. */
export async function onlyTargetProblem(db: pg.ClientBase, task: PlannedTask): Promise<string | null> {
  if (task.kind !== "create_index" || !task.only || task.concurrent) return null;
  const rel = await relationByName(db, quoteQualified(task.schemaName, task.tableName!));
  if (rel?.relkind === "p") return null;
  return `CREATE INDEX ${task.indexName} ON ONLY ${task.tableName}: ${rel ? `${rel.schema}.${rel.name} is not partitioned, so the whole index would be built under a lock that blocks writes` : "the table does not exist"}; nothing was run`;
}

/** What one step's statement is, as a task apply's engine runs (lock retries, progress, INVALID cleanup). */
function stepTask(task: PlannedTask, step: PartitionStep): PlannedTask {
  return {
    seq: task.seq,
    kind: step.kind === "attach" ? "attach_partition" : "create_index",
    statement: step.statement,
    line: task.line,
    indexName: step.index,
    schemaName: step.schema,
    tableName: step.table,
    concurrent: step.kind === "build",
    ifNotExists: false,
    only: step.kind === "create_parent",
  };
}

/** Whether a step is already done on the target (a resumed apply): its index there, valid for a build; attached for an attach. */
async function stepDone(db: pg.ClientBase, step: PartitionStep): Promise<boolean> {
  const name = quoteQualified(step.schema, step.index);
  if (step.kind === "attach") {
    const parent = await attachedTo(db, name);
    return parent?.schema === step.parent!.schema && parent.name === step.parent!.index;
  }
  const state = await indexState(db, name);
  return step.kind === "build" ? state.exists && state.valid : state.exists;
}

/** Progress of the whole expansion: leaves weighted by their size, a finished leaf at 100%. */
class WholeProgress {
  private readonly done = new Set<number>();
  constructor(
    private readonly weights: Map<number, number>,
    private readonly total: number,
  ) {}
  finish(step: number) {
    this.done.add(step);
  }
  percent(step: number, stepPercent: number): number {
    let sum = 0;
    for (const [s, w] of this.weights) sum += this.done.has(s) ? w : s === step ? (w * stepPercent) / 100 : 0;
    return this.total > 0 ? Math.round((sum / this.total) * 1000) / 10 : 0;
  }
}

const STEP_EVENTS: Partial<Record<EventKind, EventKind>> = {
  statement_start: "partition_start",
  index_ready: "partition_ready",
  statement_done: "partition_ready",
};

/**
 * The sink a step runs with: the task's row shows what the current step does (and fails with it);
 * it is done only when the last step is. Events carry the partition; progress carries the whole's percent.
 */
function stepSink(sink: ApplySink, plan: PartitionPlan, index: number, whole: WholeProgress): ApplySink {
  const step = plan.steps[index];
  const where = { step: index, steps: plan.steps.length, kind: step.kind, schema: step.schema, index: step.index, table: step.table };
  return {
    async task(seq: number, patch: TaskPatch) {
      // Whether the task created its index, and when it started, are the whole plan's (runPartitioned gives them), not a step's.
      const { status, finished, attempts, error } = patch;
      const ends = status === "done" || status === "skipped_exists";
      const forward: TaskPatch = {
        ...(attempts !== undefined ? { attempts } : {}),
        ...(error !== undefined ? { error } : {}),
        ...(status && !ends ? { status } : {}),
        ...(status === "failed" ? { finished } : {}),
      };
      if (Object.keys(forward).length) await sink.task(seq, forward);
    },
    // A step's events are the step's statement's, re-kinded and told where they happened: typed per kind at their source.
    async event(kind: EventKind, data: unknown, seq?: number) {
      if (kind === "progress") {
        const progress = data as EventData["progress"];
        const partitionPercent = Number(progress.percent ?? 0);
        await sink.event(
          "progress",
          {
            ...progress,
            ...where,
            partition: `${step.schema}.${step.table}`,
            partitionPercent,
            percent: whole.percent(index, partitionPercent),
          },
          seq,
        );
        return;
      }
      await sink.event(STEP_EVENTS[kind] ?? kind, { ...(data as object), ...where } as EventData[EventKind], seq);
    },
    cancelRequested: () => sink.cancelRequested(),
  };
}

export interface StepRunner {
  session: pg.Client;
  sink: ApplySink;
  /** apply's engine for one statement. */
  run(task: PlannedTask, sink: ApplySink): Promise<ApplyResult>;
}

/**
 * Runs an expanded plan step by step, skipping what the catalog shows done (a resumed apply rebuilds
 * no finished partition), then checks that the parent index turned valid.
 */
export async function runPartitioned(r: StepRunner, task: PlannedTask, plan: PartitionPlan): Promise<ApplyResult> {
  const root = quoteQualified(plan.schema, plan.index);
  const before = await indexState(r.session, root);
  if (before.exists && before.valid && task.ifNotExists) {
    await r.sink.task(task.seq, { started: true, status: "skipped_exists", finished: true });
    await r.sink.event("skipped_exists", { index: task.indexName, definition: before.definition }, task.seq);
    return { ok: true };
  }
  const builds = plan.steps.flatMap((s, i) => (s.kind === "build" ? [i] : []));
  const bytes = await relationBytes(
    r.session,
    builds.map((i) => quoteQualified(plan.steps[i].schema, plan.steps[i].table)),
  );
  // Empty partitions still count: each leaf weighs at least one byte, so a plan of empty tables moves too.
  const weights = new Map(builds.map((s, k) => [s, Math.max(1, bytes[k])]));
  const whole = new WholeProgress(
    weights,
    [...weights.values()].reduce((a, b) => a + b, 0),
  );
  await r.sink.task(task.seq, { started: true, status: "building" });
  await r.sink.event(
    "statement_start",
    { line: task.line, statement: task.statement, attempt: 1, partitions: leaves(plan).map(tableKey), steps: plan.steps.length },
    task.seq,
  );
  for (const [i, step] of plan.steps.entries()) {
    if (await stepDone(r.session, step)) {
      whole.finish(i);
      await r.sink.event(
        "partition_kept",
        { step: i, kind: step.kind, schema: step.schema, index: step.index, table: step.table },
        task.seq,
      );
      continue;
    }
    if (await r.sink.cancelRequested()) {
      await r.sink.task(task.seq, { status: "failed", error: "cancelled by request", finished: true });
      await r.sink.event("cancelled", { step: i }, task.seq);
      return { ok: false, cancelled: true, error: "cancelled by request" };
    }
    const result = await r.run(stepTask(task, step), stepSink(r.sink, plan, i, whole));
    if (!result.ok) return result;
    whole.finish(i);
  }
  const after = await indexState(r.session, root);
  if (!after.valid) {
    const error = `${plan.index} is still INVALID after every step: a partition of ${plan.schema}.${plan.table} was added during apply, or lost its index`;
    const advice =
      "Run pre-check again (it expands the plan against the partitions as they are now), then apply: finished partitions are kept.";
    await r.sink.task(task.seq, { status: "failed", error, finished: true });
    await r.sink.event("task_failed", { error, advice, code: "invalid_index" }, task.seq);
    return { ok: false, error, advice };
  }
  await r.sink.task(task.seq, { status: "done", finished: true, createdByRollout: !before.exists || undefined });
  await r.sink.event(
    "index_ready",
    { index: task.indexName, bytes: after.bytes, definition: after.definition, partitions: builds.length },
    task.seq,
  );
  return { ok: true };
}

/** The pre-check check: the expanded plans as evidence (apply compares against them), or why expansion fails. */
export async function partitionsCheck(db: pg.ClientBase, tasks: PlannedTask[], owned: ReadonlySet<string>): Promise<CheckResult> {
  const base = { id: PARTITIONS_CHECK, title: "Partitioned tables: expanded plan" };
  let plans: PartitionPlan[];
  try {
    plans = [...(await preparePartitions(db, tasks, { owned })).values()];
  } catch (err) {
    if (!(err instanceof PartitionError)) throw err;
    return { ...base, status: "fail", summary: err.message, evidence: { plans: [] } };
  }
  if (!plans.length) return { ...base, status: "pass", summary: "no statement builds on a partitioned table", evidence: { plans } };
  const summary = plans
    .map((p) => {
      const count = (k: PartitionStepKind) => p.steps.filter((s) => s.kind === k).length;
      return `${p.index} on ${p.schema}.${p.table}: ON ONLY on ${count("create_parent")} partitioned table(s), ${count("build")} concurrent partition build(s), ${count("attach")} ATTACH PARTITION`;
    })
    .join("; ");
  return { ...base, status: "pass", summary, evidence: { plans } };
}

type Drop = Omit<RollbackIndex, "line">;

/**
 * Drops for the indexes of expanded steps: the partitioned ones first (PostgreSQL can't drop a
 * partitioned index CONCURRENTLY; dropping one drops every index attached below it), then,
 * concurrently, each partition's, which is there only if it was never attached.
 */
function dropsFor(steps: Array<Pick<PartitionStep, "kind" | "schema" | "index" | "table">>): Drop[] {
  const made = steps.filter((s) => s.kind !== "attach");
  return [...made.filter((s) => s.kind === "create_parent"), ...made.filter((s) => s.kind === "build")].map((s) => ({
    indexName: s.index,
    schemaName: s.schema,
    tableName: s.table,
    partitioned: s.kind === "create_parent",
  }));
}

/** Rollback of a rollout's expanded builds: exactly the indexes its applies began to create (see ownedPartitionIndexes). */
export async function partitionRollback(db: Pick<pg.Pool, "query">, rolloutId: number): Promise<{ seqs: Set<number>; drops: Drop[] }> {
  const started = await eventsOfKind(db, rolloutId, "partition_start");
  const seen = new Set<string>();
  const steps = started
    .map((e) => ({
      kind: e.data.kind as PartitionStepKind,
      schema: String(e.data.schema),
      index: String(e.data.index),
      table: String(e.data.table),
    }))
    .filter((s) => !seen.has(quoteQualified(s.schema, s.index)) && seen.add(quoteQualified(s.schema, s.index)));
  return { seqs: new Set(started.map((e) => e.taskSeq!)), drops: dropsFor(steps) };
}

/** The CLI's rollback, with no record of what was created: every index the expansion names, as the catalog gives it now. */
export function planDrops(plan: PartitionPlan): Drop[] {
  return dropsFor(plan.steps);
}

/**
 * After a server died mid-plan (its builds followed to their end by reconcile): the step that was
 * running, settled from the catalog. A build that finished valid is kept; one left INVALID is dropped.
 */
export async function reconcilePartitionStep(
  db: Pick<pg.Pool, "query">,
  rolloutId: number,
  seq: number,
  target: pg.ClientBase,
): Promise<{ step: PartitionStep | null; state: "finished" | "invalid" | "absent" }> {
  const last = (await eventsOfKind(db, rolloutId, "partition_start")).filter((e) => e.taskSeq === seq).pop();
  if (!last || last.data.kind !== "build") return { step: null, state: "absent" };
  const step = last.data as unknown as PartitionStep;
  const s = await indexState(target, quoteQualified(step.schema, step.index));
  return { step, state: !s.exists ? "absent" : s.valid ? "finished" : "invalid" };
}
