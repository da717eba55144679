import type pg from "pg";
import { indexByName, indexesOfRelation, relationByName } from "../targets/catalog";
import { quoteQualified } from "../sql/quote";
import { createdIndex } from "./nodes";
import { parseChangeSet, parserReady } from "./parse";
import type { SqlText } from "./source";
import { relationKey, type RelationInfo, type SchemaInfo } from "./rule";

function qualified(schema: string | null, name: string): string {
  return quoteQualified(schema, name);
}

/**
 * Reads what the database-aware rules need about the tables and index names a change set
 * mentions. Runs in a READ ONLY transaction with a short statement_timeout: linting must never
 * change or hold up the target.
 */
export async function loadSchemaInfo(db: pg.ClientBase, texts: Array<{ file: string; text: SqlText }>): Promise<SchemaInfo> {
  await parserReady();
  const tables = new Map<string, { schema: string | null; table: string }>();
  const names = new Map<string, { schema: string | null; name: string }>();
  for (const { file, text } of texts) {
    for (const stmt of parseChangeSet(file, text).statements) {
      const idx = createdIndex(stmt);
      if (!idx) continue;
      tables.set(relationKey(idx.schema, idx.table), { schema: idx.schema, table: idx.table });
      if (idx.name) names.set(relationKey(idx.schema, idx.name), { schema: idx.schema, name: idx.name });
    }
  }
  const relations = new Map<string, RelationInfo | null>();
  const indexesByName = new Map<string, { valid: boolean; table: string } | null>();
  await db.query("BEGIN READ ONLY");
  try {
    await db.query("SET LOCAL statement_timeout = '5s'");
    for (const [key, { schema, table }] of tables) {
      const rel = await relationByName(db, qualified(schema, table));
      relations.set(
        key,
        rel && {
          schema: rel.schema,
          name: rel.name,
          relkind: rel.relkind,
          bytes: Number(rel.bytes),
          columns: new Set(rel.columns),
          indexes: await indexesOfRelation(db, rel.oid),
        },
      );
    }
    for (const [key, { schema, name }] of names) indexesByName.set(key, await indexByName(db, qualified(schema, name)));
  } finally {
    await db.query("ROLLBACK");
  }
  return { relations, indexesByName };
}
