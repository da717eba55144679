import { attachedPartition, createdIndex, droppedIndexes, isReindex, memoSlot, nodeBody, qualifiedName, readsTreesOf } from "./nodes";
import type { Statement } from "./parse";
import { isRolloutSetting, ROLLOUT_SETTINGS, settingValue, type SessionLimits } from "./settings";

/**
 * What may run on a target, decided once, on the parse tree: the plan refuses a change set with any
 * of these problems, and each rule id is also a lint rule with the same verdict (one source for both).
 * No text matching decides anything here; the only scan of raw text is PostgreSQL's own scanner.
 */
export const POLICY_RULES = [
  "non-index-statement",
  "transaction-wrapper",
  "setting-not-allowed",
  "set-local-outside-transaction",
  "setting-out-of-range",
  "reindex-scope",
  "drop-index-shape",
  "analyze-scope",
  "system-catalog",
  "backslash-in-string",
] as const;

export type PolicyRule = (typeof POLICY_RULES)[number];

export interface PolicyProblem {
  rule: PolicyRule;
  message: string;
}

type Obj = Record<string, unknown>;

// The kinds `judge` reads the tree of beyond what facts read; every other kind's verdict is its kind's.
readsTreesOf(["VariableSetStmt", "TransactionStmt", "AlterTableStmt", "RenameStmt", "DropStmt", "CommentStmt", "VacuumStmt"]);

const KIND_NAMES: Record<string, string> = {
  SelectStmt: "SELECT",
  InsertStmt: "INSERT",
  UpdateStmt: "UPDATE",
  DeleteStmt: "DELETE",
  CopyStmt: "COPY",
  DoStmt: "DO",
  CreateStmt: "CREATE TABLE",
  AlterTableStmt: "ALTER TABLE",
  CreateFunctionStmt: "CREATE FUNCTION",
  GrantStmt: "GRANT",
  TruncateStmt: "TRUNCATE",
  VariableShowStmt: "SHOW",
  CallStmt: "CALL",
  ExplainStmt: "EXPLAIN",
  CreateSchemaStmt: "CREATE SCHEMA",
};

const ALTER_INDEX_COMMANDS: Record<string, string> = {
  AT_SetStatistics: "ALTER COLUMN … SET STATISTICS (planner statistics belong in a migration of their own)",
  AT_SetRelOptions: "SET (…) (storage parameters belong in a migration of their own)",
  AT_ResetRelOptions: "RESET (…) (storage parameters belong in a migration of their own)",
  AT_SetTableSpace: "SET TABLESPACE (it rewrites the index under an exclusive lock)",
};

/** Why a statement kind is not part of an index change set, named as a DBA would write it. */
function kindProblem(stmt: Statement): string {
  const alter = nodeBody(stmt, "AlterTableStmt");
  if (alter?.objtype === "OBJECT_INDEX") {
    const subtype = String(((alter.cmds as Obj[])?.[0]?.AlterTableCmd as Obj | undefined)?.subtype ?? "");
    return `ALTER INDEX … ${ALTER_INDEX_COMMANDS[subtype] ?? "(this form)"} does not belong in an index change set`;
  }
  const rename = nodeBody(stmt, "RenameStmt");
  if (rename?.renameType === "OBJECT_INDEX") {
    return "ALTER INDEX … RENAME does not belong in an index change set: verify, rollback and the usage history follow an index by its name";
  }
  if (stmt.kind === "VacuumStmt") return "VACUUM does not belong in an index change set (ANALYZE of a named table does)";
  return kindOnly(stmt.kind).problem.message;
}

const SYSTEM_SCHEMAS = new Set(["pg_catalog", "information_schema", "pg_toast"]);

/**
 * A relation in a system schema. An unqualified `pg_*` name counts too: pg_catalog comes first on the
 * apply session's search_path, so `pg_class` there is the catalog.
 */
function systemRelation(rel: { schema: string | null; name: string } | null | undefined): boolean {
  if (!rel) return false;
  return rel.schema ? SYSTEM_SCHEMAS.has(rel.schema) || rel.schema.startsWith("pg_temp") : rel.name.startsWith("pg_");
}

function relationsOf(stmt: Statement): Array<{ schema: string | null; name: string }> {
  const created = createdIndex(stmt);
  if (created) return [{ schema: created.schema, name: created.table }];
  const dropped = droppedIndexes(stmt);
  if (dropped) return dropped.names;
  const reindex = isReindex(stmt);
  if (reindex?.relation) return [reindex.relation];
  const attached = attachedPartition(stmt);
  if (attached) return [attached.parent, attached.child];
  const comment = nodeBody(stmt, "CommentStmt");
  if (comment?.objtype === "OBJECT_INDEX") return [qualifiedName((((comment.object as Obj)?.List as Obj)?.items as Obj[]) ?? [])];
  const vacuum = nodeBody(stmt, "VacuumStmt");
  if (vacuum) {
    return ((vacuum.rels as Obj[]) ?? []).map((r) => {
      const rel = (r.VacuumRelation as Obj).relation as { relname: string; schemaname?: string };
      return { schema: rel.schemaname ?? null, name: rel.relname };
    });
  }
  return [];
}

const LEXING = "it changes how the server reads SQL text, which must stay as the linter and the approvers read it";
const IDENTITY = "it changes whom the statements run as";

/** Settings refused for a reason of their own; every other one not on the allow-list gets the list. */
const REFUSED_SETTINGS: Record<string, string> = {
  standard_conforming_strings: LEXING,
  backslash_quote: LEXING,
  client_encoding: LEXING,
  escape_string_warning: LEXING,
  role: IDENTITY,
  session_authorization: IDENTITY,
  search_path:
    "name resolution is fixed by indexdeck (pg_catalog first, then the target's configured path), so index expressions can't be pointed at other functions",
  application_name: "reconcile finds an interrupted apply by the session's application_name",
};

function settingProblems(stmt: Statement, limits: SessionLimits): PolicyProblem[] {
  const s = nodeBody(stmt, "VariableSetStmt")!;
  const name = String(s.name ?? "").toLowerCase();
  if (s.kind === "VAR_RESET_ALL") {
    return [
      {
        rule: "setting-not-allowed",
        message: "RESET ALL returns every setting to the server's defaults, including the apply session's lock_timeout",
      },
    ];
  }
  if (s.kind === "VAR_SET_MULTI") {
    return [
      {
        rule: "setting-not-allowed",
        message: `SET ${String(s.name)} … does not belong in a rollout: statements run one by one, outside transactions`,
      },
    ];
  }
  if (!isRolloutSetting(name)) {
    const why = REFUSED_SETTINGS[name] ?? `only ${Object.keys(ROLLOUT_SETTINGS).join(", ")} may be set`;
    return [{ rule: "setting-not-allowed", message: `SET ${name} is not allowed in a rollout: ${why}` }];
  }
  if (s.is_local) {
    return [
      {
        rule: "set-local-outside-transaction",
        message: `SET LOCAL ${name} has no effect: rollout statements run outside transactions, so nothing is local`,
      },
    ];
  }
  const rule = ROLLOUT_SETTINGS[name];
  if (s.kind === "VAR_SET_DEFAULT" || s.kind === "VAR_RESET") {
    return rule.resettable
      ? []
      : [
          {
            rule: "setting-out-of-range",
            message: `RESET ${name} gives it back to the server's default, which may be 0 (wait forever): set a value instead`,
          },
        ];
  }
  if (s.kind !== "VAR_SET_VALUE")
    return [{ rule: "setting-not-allowed", message: `SET ${name} FROM CURRENT is not allowed in a rollout: give a value` }];
  const problem = rule.check(settingValue(s.args as Obj[] | undefined), limits);
  return problem ? [{ rule: "setting-out-of-range", message: problem }] : [];
}

/**
 * A standard string literal with a backslash reads differently when standard_conforming_strings is
 * off (the server then takes `\'` as an escaped quote, and the string ends somewhere else). indexdeck
 * pins the setting on, but a string whose meaning hangs on a setting has no place in a change set.
 */
function backslashProblems(stmt: Statement): PolicyProblem[] {
  if (stmt.backslashAt === null) return [];
  return [
    {
      rule: "backslash-in-string",
      message:
        "a backslash in a standard string literal: with standard_conforming_strings off the server reads it as an escape and the string ends elsewhere; write it without a backslash, or as an E'' string",
    },
  ];
}

function judge(stmt: Statement, limits: SessionLimits): readonly PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  switch (stmt.kind) {
    case "VariableSetStmt":
      problems.push(...settingProblems(stmt, limits));
      break;
    case "TransactionStmt": {
      const kind = String(nodeBody(stmt, "TransactionStmt")!.kind ?? "");
      const word = kind
        .replace(/^TRANS_STMT_/, "")
        .replace(/_/g, " ")
        .replace("START", "START TRANSACTION");
      problems.push({
        rule: "transaction-wrapper",
        message: `${word} starts or ends a transaction block, where concurrent index builds fail`,
      });
      break;
    }
    case "IndexStmt":
      break;
    // Assembling a partitioned index (the recipe for CONCURRENTLY on a partitioned table): only the
    // one-command form; every other ALTER INDEX is refused below.
    case "AlterTableStmt":
      if (!attachedPartition(stmt)) problems.push({ rule: "non-index-statement", message: kindProblem(stmt) });
      break;
    case "ReindexStmt": {
      const r = isReindex(stmt)!;
      if (r.scope !== "index" && r.scope !== "table") {
        problems.push({
          rule: "reindex-scope",
          message: `REINDEX ${r.scope.toUpperCase()} rebuilds every index of the ${r.scope}${r.scope === "system" ? " catalog, and can't run CONCURRENTLY" : ""}: name the INDEX or TABLE to rebuild`,
        });
      }
      break;
    }
    case "DropStmt": {
      const d = droppedIndexes(stmt);
      if (!d) {
        problems.push({
          rule: "non-index-statement",
          message: `DROP ${String(nodeBody(stmt, "DropStmt")!.removeType).replace(/^OBJECT_/, "")} does not belong in an index change set`,
        });
        break;
      }
      if (d.names.length > 1)
        problems.push({
          rule: "drop-index-shape",
          message: `DROP INDEX of ${d.names.length} indexes in one statement: write one DROP INDEX per index (PostgreSQL refuses several with CONCURRENTLY, and a rollout tracks each index on its own)`,
        });
      if (d.cascade)
        problems.push({
          rule: "drop-index-shape",
          message:
            "DROP INDEX … CASCADE also drops what depends on the index (foreign keys that use it): drop those in a migration of their own",
        });
      break;
    }
    case "CommentStmt":
      if (nodeBody(stmt, "CommentStmt")!.objtype !== "OBJECT_INDEX")
        problems.push({ rule: "non-index-statement", message: "COMMENT on anything but an index does not belong in an index change set" });
      break;
    case "VacuumStmt":
      if (nodeBody(stmt, "VacuumStmt")!.is_vacuumcmd) problems.push({ rule: "non-index-statement", message: kindProblem(stmt) });
      else if (relationsOf(stmt).length === 0)
        problems.push({ rule: "analyze-scope", message: "ANALYZE without a table analyzes every table of the database: name the tables" });
      break;
    default:
      problems.push(
        MESSAGE_FROM_TREE.has(stmt.kind) ? { rule: "non-index-statement", message: kindProblem(stmt) } : kindOnly(stmt.kind).problem,
      );
  }
  const system = relationsOf(stmt).filter(systemRelation);
  if (system.length) {
    const names = system.map((r) => (r.schema ? `${r.schema}.${r.name}` : r.name)).join(", ");
    problems.push({
      rule: "system-catalog",
      message: `${names} is a system catalog object (pg_catalog comes first on the apply session's search_path): a rollout never touches catalogs`,
    });
  }
  problems.push(...backslashProblems(stmt));
  // A long file has a verdict per statement: most are one of a few, shared rather than copied.
  if (problems.length === 0) return NO_PROBLEMS;
  const only = kindOnly(stmt.kind);
  return problems.length === 1 && problems[0] === only.problem ? only.verdict : problems.slice();
}

const NO_PROBLEMS: readonly PolicyProblem[] = [];

/** The kinds whose refusal reads their tree; every other kind's says no more than the kind. */
const MESSAGE_FROM_TREE = new Set(["AlterTableStmt", "RenameStmt", "VacuumStmt"]);

const KIND_REFUSALS = new Map<string, { problem: PolicyProblem; verdict: readonly PolicyProblem[] }>();

/** One refusal, and one verdict holding just it, per statement kind (a parse tree's node name). */
function kindOnly(kind: string): { problem: PolicyProblem; verdict: readonly PolicyProblem[] } {
  let entry = KIND_REFUSALS.get(kind);
  if (!entry) {
    const name = KIND_NAMES[kind] ?? kind.replace(/Stmt$/, "");
    const problem: PolicyProblem = { rule: "non-index-statement", message: `${name} statement does not belong in an index change set` };
    entry = { problem, verdict: [problem] };
    KIND_REFUSALS.set(kind, entry);
  }
  return entry;
}

const LIMITS = memoSlot();
const VERDICT = memoSlot();

/**
 * Every reason the statement may not run on a target, in a stable order; empty when it may. The
 * verdict is kept on the statement for the limits last asked about (a linter or a plan asks with one).
 */
export function policyProblems(stmt: Statement, limits: SessionLimits): readonly PolicyProblem[] {
  if (stmt.memo[LIMITS] !== limits) {
    stmt.memo[VERDICT] = judge(stmt, limits);
    stmt.memo[LIMITS] = limits;
  }
  return stmt.memo[VERDICT] as readonly PolicyProblem[];
}
