import type { CreatedIndex } from "../nodes";
import { defineRule, indexOnKnownTable, type ExistingIndex } from "../rule";

function isPrefix(a: Array<string | null>, b: Array<string | null>): boolean {
  return a.length <= b.length && a.every((c, i) => c === b[i]);
}

/** Plain-column indexes with the same method and no predicate on either side are comparable. */
function comparable(n: CreatedIndex, e: ExistingIndex): boolean {
  return (
    e.valid &&
    e.method === n.method &&
    !e.hasPredicate &&
    !n.hasPredicate &&
    !n.unique &&
    ![...e.columns, ...n.columns].includes(null) &&
    e.name !== n.name
  );
}

export const redundantIndex = defineRule({
  id: "redundant-index",
  severity: "warning",
  description: "the new index duplicates or overlaps an existing one",
  help: "An index whose key columns equal, or are a leading prefix of, another index's columns serves the same lookups; each extra index slows every write. Drop one of them (keep the one constraints need).",
  needsDatabase: true,
  check: (ctx) =>
    ctx.statements.flatMap((stmt) => {
      const found = indexOnKnownTable(ctx, stmt);
      if (!found) return [];
      const { idx, rel } = found;
      return rel.indexes
        .filter((e) => comparable(idx, e))
        .flatMap((e) => {
          const cols = (c: Array<string | null>) => `(${c.join(", ")})`;
          if (isPrefix(idx.columns, e.columns)) {
            const how = idx.columns.length === e.columns.length ? "has the same columns as" : "is a leading prefix of";
            return [
              { stmt, message: `${idx.name ?? "this index"} ${cols(idx.columns)} ${how} existing index ${e.name} ${cols(e.columns)}` },
            ];
          }
          if (isPrefix(e.columns, idx.columns)) {
            return [
              {
                stmt,
                message: `existing index ${e.name} ${cols(e.columns)} is a leading prefix of ${idx.name ?? "this index"} ${cols(idx.columns)} and becomes redundant`,
              },
            ];
          }
          return [];
        });
    }),
});
