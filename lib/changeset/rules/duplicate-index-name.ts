import { createdIndex, droppedIndexes } from "../nodes";
import type { Statement } from "../parse";
import { defineRule, type RuleFinding } from "../rule";

// An unqualified name is looked up through search_path; the default one ("$user", public) and
// most real ones find it in public, so `a` and `public.a` are taken to be the same index.
const DEFAULT_SCHEMA = "public";
const SEARCH_PATH = `an unqualified name resolves through search_path, usually to ${DEFAULT_SCHEMA}`;

interface IndexReference {
  /** As written (a created index is in its table's schema); null: unqualified. */
  schema: string | null;
  name: string;
  created: boolean;
  line: number;
}

const spelled = (ref: IndexReference) => (ref.schema ? `${ref.schema}.${ref.name}` : ref.name);

export const duplicateIndexName = defineRule({
  id: "duplicate-index-name",
  severity: "error",
  description: "two CREATE INDEX statements use the same name, or one index is named both qualified and unqualified",
  help: "The second CREATE fails, or with IF NOT EXISTS is silently skipped although its definition differs: give each index its own name. Where the same index is written once as `a` and once as `public.a`, write it the same way everywhere, so that what is created, verified and rolled back is visibly one index.",
  check: (ctx) => {
    // Both keyed by the name as it resolves: `schema.name`, an unqualified name in public; kept across parts.
    const { firstCreated, firstNamed } = ctx.carried("duplicate-index-name", () => ({
      firstCreated: new Map<string, IndexReference>(),
      firstNamed: new Map<string, IndexReference>(),
    }));
    const findings: RuleFinding[] = [];
    const see = (stmt: Statement, ref: IndexReference) => {
      const key = `${ref.schema ?? DEFAULT_SCHEMA}.${ref.name}`;
      const created = firstCreated.get(key);
      const named = firstNamed.get(key);
      if (!named) firstNamed.set(key, ref);
      if (ref.created && !created) firstCreated.set(key, ref);
      if (ref.created && created) {
        const message =
          (created.schema === null) === (ref.schema === null)
            ? `index name ${ref.name} is already created at line ${created.line}`
            : `index ${spelled(ref)} is already created at line ${created.line} as ${spelled(created)}: ${SEARCH_PATH}`;
        findings.push({ stmt, message });
      } else if (named && (named.schema === null) !== (ref.schema === null)) {
        const message = `index ${spelled(ref)} is ${named.created ? "created" : "dropped"} at line ${named.line} as ${spelled(named)}: ${SEARCH_PATH}; name it the same way everywhere`;
        findings.push({ stmt, message });
      }
    };
    for (const stmt of ctx.statements) {
      if (stmt.kind !== "IndexStmt" && stmt.kind !== "DropStmt") continue;
      const idx = createdIndex(stmt);
      if (idx?.name) see(stmt, { schema: idx.schema, name: idx.name, created: true, line: stmt.line });
      for (const d of droppedIndexes(stmt)?.names ?? []) see(stmt, { schema: d.schema, name: d.name, created: false, line: stmt.line });
    }
    return findings;
  },
});
