import type { Statement } from "./parse";

/** The parts of a CREATE INDEX that rules and the rollout engine care about. */
export interface CreatedIndex {
  name: string | null;
  schema: string | null;
  table: string;
  method: string;
  unique: boolean;
  concurrent: boolean;
  ifNotExists: boolean;
  /** `ON ONLY table`: on a partitioned table, the parent's index alone (left INVALID until every partition's is attached). */
  only: boolean;
  /** Plain key columns in order; null where a key is an expression. */
  columns: Array<string | null>;
  include: string[];
  hasPredicate: boolean;
}

type Obj = Record<string, unknown>;

/** A parse tree without its positions: two trees of the same statement written at other offsets compare equal. */
export function withoutLocations(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutLocations);
  if (node && typeof node === "object")
    return Object.fromEntries(
      Object.entries(node)
        .filter(([k]) => k !== "location")
        .map(([k, x]) => [k, withoutLocations(x)]),
    );
  return node;
}

export function nodeBody(stmt: Statement, kind: string): Obj | null {
  return stmt.kind === kind ? ((stmt.node as Obj)[kind] as Obj) : null;
}

/** Each statement kind's facts: most statements are of kinds that have none, and are passed over at once. */
const FACTS = new Map<string, Array<(stmt: Statement) => unknown>>();

let slots = 0;

/**
 * A slot of every statement's memo for one reader's value. Kept on the statement rather than in a
 * WeakMap per reader: with an entry per statement, the WeakMaps (their upkeep in the collector
 * above all) cost about a seventh of the linter's CPU on the 7 MB corpus.
 */
export function memoSlot(): number {
  return slots++;
}

/** The statement kinds whose trees are read while a statement is prepared (facts, the policy's verdict). */
const TREE_KINDS = new Set<string>();

/** Declares that a statement's preparation reads the trees of these kinds (facts declare their own). */
export function readsTreesOf(kinds: readonly string[]): void {
  for (const k of kinds) TREE_KINDS.add(k);
}

/**
 * Whether the parse of a long file must decode a statement of this kind's tree: the other kinds' are
 * read again only if something asks for them later, which costs a parse of that statement alone.
 */
export function readsTree(kind: string): boolean {
  return TREE_KINDS.has(kind);
}

/** Every kind readsTree answers yes for, for a thread that parses on this one's behalf (parse-ahead.ts). */
export function treeKinds(): string[] {
  return [...TREE_KINDS];
}

/**
 * A fact read from the parse trees of statements of the given kinds, kept once read: rules ask the
 * same statement many times, and a long file's trees are dropped once their facts are read
 * (`readStatementFacts`), because the trees take tens of times the SQL's size and the facts little.
 */
export function statementFact<T>(kinds: readonly string[], read: (stmt: Statement) => T): (stmt: Statement) => T | null {
  readsTreesOf(kinds);
  const slot = memoSlot();
  const fact = (stmt: Statement): T | null => {
    if (!kinds.includes(stmt.kind)) return null;
    if (stmt.memo[slot] === undefined) stmt.memo[slot] = read(stmt);
    return stmt.memo[slot] as T;
  };
  for (const kind of kinds) {
    const ofKind = FACTS.get(kind);
    if (ofKind) ofKind.push(fact);
    else FACTS.set(kind, [fact]);
  }
  return fact;
}

/** Reads every declared fact of a statement while its tree is at hand. */
export function readStatementFacts(stmt: Statement): void {
  const facts = FACTS.get(stmt.kind);
  if (facts) for (const fact of facts) fact(stmt);
}

export const createdIndex = statementFact(["IndexStmt"], readCreatedIndex);

function readCreatedIndex(stmt: Statement): CreatedIndex | null {
  const s = nodeBody(stmt, "IndexStmt");
  if (!s) return null;
  // The parse tree leaves out false booleans: no `inh` is ON ONLY.
  const relation = s.relation as { relname: string; schemaname?: string; inh?: boolean };
  const params = ((s.indexParams as Obj[]) ?? []).map((p) => p.IndexElem as Obj);
  const include = ((s.indexIncludingParams as Obj[]) ?? []).map((p) => (p.IndexElem as Obj).name as string).filter(Boolean);
  return {
    name: (s.idxname as string) ?? null,
    schema: relation.schemaname ?? null,
    table: relation.relname,
    method: (s.accessMethod as string) ?? "btree",
    unique: !!s.unique,
    concurrent: !!s.concurrent,
    ifNotExists: !!s.if_not_exists,
    only: !relation.inh,
    columns: params.map((p) => (typeof p.name === "string" ? p.name : null)),
    include,
    hasPredicate: !!s.whereClause,
  };
}

/** Every column name a CREATE INDEX references: keys, expressions, INCLUDE and WHERE. */
export function referencedColumns(stmt: Statement): string[] {
  const s = nodeBody(stmt, "IndexStmt");
  if (!s) return [];
  const referenced = new Set<string>();
  for (const p of [...((s.indexParams as Obj[]) ?? []), ...((s.indexIncludingParams as Obj[]) ?? [])]) {
    const elem = p.IndexElem as Obj;
    if (typeof elem.name === "string") referenced.add(elem.name);
    if (elem.expr) collectColumnRefs(elem.expr, referenced);
  }
  if (s.whereClause) collectColumnRefs(s.whereClause, referenced);
  return [...referenced];
}

/** Column names of every ColumnRef in an expression tree (the last field of a qualified name). */
function collectColumnRefs(node: unknown, out: Set<string>): void {
  const stack: unknown[] = [node];
  while (stack.length) {
    const n = stack.pop();
    if (Array.isArray(n)) {
      stack.push(...n);
    } else if (n && typeof n === "object") {
      const ref = (n as Obj).ColumnRef as { fields?: Obj[] } | undefined;
      if (ref?.fields) {
        const last = ref.fields[ref.fields.length - 1] as { String?: { sval: string } };
        if (last?.String) out.add(last.String.sval);
        continue;
      }
      stack.push(...Object.values(n as Obj));
    }
  }
}

export interface DroppedIndexes {
  names: Array<{ schema: string | null; name: string }>;
  concurrent: boolean;
  ifExists: boolean;
  cascade: boolean;
}

export const droppedIndexes = statementFact(["DropStmt"], (stmt): DroppedIndexes | null => {
  const s = nodeBody(stmt, "DropStmt");
  if (!s || s.removeType !== "OBJECT_INDEX") return null;
  const names = ((s.objects as Obj[]) ?? []).map((o) => qualifiedName(((o.List as Obj)?.items as Obj[]) ?? []));
  return { names, concurrent: !!s.concurrent, ifExists: !!s.missing_ok, cascade: s.behavior === "DROP_CASCADE" };
});

/** `[schema.]name` from a parse tree's list of String nodes (a catalog-qualified name keeps its last two parts). */
export function qualifiedName(items: Obj[]): { schema: string | null; name: string } {
  const parts = items.map((i) => (i.String as { sval: string }).sval);
  return { schema: parts.length > 1 ? parts[parts.length - 2] : null, name: parts[parts.length - 1] };
}

/** `ALTER INDEX parent ATTACH PARTITION child`, the one ALTER INDEX a change set may hold: one command, nothing else. */
export interface AttachedPartition {
  parent: { schema: string | null; name: string };
  child: { schema: string | null; name: string };
}

export const attachedPartition = statementFact(["AlterTableStmt"], (stmt): AttachedPartition | null => {
  const s = nodeBody(stmt, "AlterTableStmt");
  if (s?.objtype !== "OBJECT_INDEX" || s.missing_ok) return null;
  const cmds = (s.cmds as Obj[]) ?? [];
  const cmd = cmds[0]?.AlterTableCmd as Obj | undefined;
  if (cmds.length !== 1 || cmd?.subtype !== "AT_AttachPartition") return null;
  const partition = (cmd.def as Obj | undefined)?.PartitionCmd as Obj | undefined;
  const child = partition?.name as { relname: string; schemaname?: string } | undefined;
  const parent = s.relation as { relname: string; schemaname?: string };
  if (!child || partition?.bound) return null;
  return {
    parent: { schema: parent.schemaname ?? null, name: parent.relname },
    child: { schema: child.schemaname ?? null, name: child.relname },
  };
});

export type ReindexScope = "index" | "table" | "schema" | "system" | "database";

export interface Reindex {
  scope: ReindexScope;
  /** The index or table, for the scopes that name one. */
  relation: { schema: string | null; name: string } | null;
  concurrent: boolean;
}

const REINDEX_SCOPES: Record<string, ReindexScope> = {
  REINDEX_OBJECT_INDEX: "index",
  REINDEX_OBJECT_TABLE: "table",
  REINDEX_OBJECT_SCHEMA: "schema",
  REINDEX_OBJECT_SYSTEM: "system",
  REINDEX_OBJECT_DATABASE: "database",
};

export const isReindex = statementFact(["ReindexStmt"], (stmt): Reindex => {
  const s = nodeBody(stmt, "ReindexStmt")!;
  const option = ((s.params as Obj[]) ?? []).map((p) => p.DefElem as Obj).find((d) => d?.defname === "concurrently");
  const rel = s.relation as { relname: string; schemaname?: string } | undefined;
  return {
    scope: REINDEX_SCOPES[String(s.kind)] ?? "database",
    relation: rel ? { schema: rel.schemaname ?? null, name: rel.relname } : null,
    concurrent: option !== undefined && defElemTrue(option),
  };
});

/**
 * Whether a boolean option is on, read as PostgreSQL's defGetBoolean does: no value means true;
 * `(CONCURRENTLY false)`, `0` or `off` mean false. Anything this can't read counts as false, so an
 * unclear option is never taken for a concurrent build.
 */
function defElemTrue(d: Obj): boolean {
  const arg = d.arg as Obj | undefined;
  if (!arg) return true;
  if ("Integer" in arg) return ((arg.Integer as Obj).ival ?? 0) === 1;
  if ("Boolean" in arg) return !!(arg.Boolean as Obj).boolval;
  const text = String((arg.String as Obj | undefined)?.sval ?? "").toLowerCase();
  return ["true", "on", "yes", "t", "y", "1"].includes(text);
}

/** True for statements that take part in building or removing indexes. */
export function isIndexStatement(stmt: Statement): boolean {
  return stmt.kind === "IndexStmt" || droppedIndexes(stmt) !== null || stmt.kind === "ReindexStmt";
}

/** Concurrent builds: CREATE INDEX CONCURRENTLY and REINDEX ... CONCURRENTLY. */
export function isConcurrentBuild(stmt: Statement): boolean {
  return !!createdIndex(stmt)?.concurrent || !!isReindex(stmt)?.concurrent;
}
