import { createdIndex, droppedIndexes } from "../nodes";
import type { Statement } from "../parse";
import { defineRule } from "../rule";

// An unqualified name is looked up through search_path; the default one ("$user", public) and
// most real ones find it in public, so `a` and `public.a` are taken to be the same index.
const DEFAULT_SCHEMA = "public";
const SEARCH_PATH = `an unqualified name resolves through search_path, usually to ${DEFAULT_SCHEMA}`;

interface IndexReference {
  key: string;
  /** As written: `a` or `public.a` (a created index is in its table's schema). */
  spelled: string;
  qualified: boolean;
  created: boolean;
  line: number;
}

function references(stmt: Statement): IndexReference[] {
  const created = createdIndex(stmt);
  const named = created?.name ? [{ schema: created.schema, name: created.name }] : (droppedIndexes(stmt)?.names ?? []);
  return named.map(({ schema, name }) => ({
    key: `${schema ?? DEFAULT_SCHEMA}.${name}`,
    spelled: schema ? `${schema}.${name}` : name,
    qualified: schema !== null,
    created: !!created,
    line: stmt.line,
  }));
}

export const duplicateIndexName = defineRule({
  id: "duplicate-index-name",
  severity: "error",
  description: "two CREATE INDEX statements use the same name, or one index is named both qualified and unqualified",
  help: "The second CREATE fails, or with IF NOT EXISTS is silently skipped although its definition differs: give each index its own name. Where the same index is written once as `a` and once as `public.a`, write it the same way everywhere, so that what is created, verified and rolled back is visibly one index.",
  check: (ctx) => {
    const firstCreated = new Map<string, IndexReference>();
    const firstNamed = new Map<string, IndexReference>();
    return ctx.statements.flatMap((stmt) =>
      references(stmt).flatMap((ref) => {
        const created = firstCreated.get(ref.key);
        const named = firstNamed.get(ref.key);
        if (!named) firstNamed.set(ref.key, ref);
        if (ref.created && !created) firstCreated.set(ref.key, ref);
        if (ref.created && created) {
          const message = created.qualified === ref.qualified
            ? `index name ${ref.spelled.split(".").pop()} is already created at line ${created.line}`
            : `index ${ref.spelled} is already created at line ${created.line} as ${created.spelled}: ${SEARCH_PATH}`;
          return [{ stmt, message }];
        }
        if (named && named.qualified !== ref.qualified) {
          const message = `index ${ref.spelled} is ${named.created ? "created" : "dropped"} at line ${named.line} as ${named.spelled}: ${SEARCH_PATH}; name it the same way everywhere`;
          return [{ stmt, message }];
        }
        return [];
      }),
    );
  },
});
