import type pg from "pg";

export interface PartitionNode {
  schema: string;
  name: string;
  /** pg_class.relkind: p partitioned (has partitions of its own), r table, f foreign table. */
  relkind: string;
  /** The partitioned table it is a partition of; null for the root. */
  parent: { schema: string; name: string } | null;
  level: number;
}

/**
 * Every level of each partitioned table in `qualifiedTables` (identifier-quoted), as the server
 * resolves it through its search_path, in one round trip: per table, the root first, then by level,
 * schema and name; empty for a table that is not partitioned (or does not exist).
 */
export async function partitionTrees(db: pg.ClientBase, qualifiedTables: readonly string[]): Promise<PartitionNode[][]> {
  if (!qualifiedTables.length) return [];
  const { rows } = await db.query<PartitionNode & { ord: number }>(
    `WITH RECURSIVE tree AS (
       SELECT r.ord, c.oid, NULL::oid AS parent, 0 AS level
         FROM unnest($1::text[]) WITH ORDINALITY AS r(name, ord)
         JOIN pg_class c ON c.oid = to_regclass(r.name) AND c.relkind = 'p'
       UNION ALL
       SELECT t.ord, i.inhrelid, i.inhparent, t.level + 1
         FROM pg_inherits i
         JOIN tree t ON t.oid = i.inhparent
     )
     SELECT
       t.ord::int                                             AS ord,
       n.nspname                                              AS schema,
       c.relname                                              AS name,
       c.relkind::text                                        AS relkind,
       CASE WHEN t.parent IS NULL THEN NULL
            ELSE json_build_object('schema', pn.nspname, 'name', p.relname) END AS parent,
       t.level                                                AS level
     FROM tree t
     JOIN pg_class c      ON c.oid = t.oid
     JOIN pg_namespace n  ON n.oid = c.relnamespace
     LEFT JOIN pg_class p      ON p.oid = t.parent
     LEFT JOIN pg_namespace pn ON pn.oid = p.relnamespace
    ORDER BY t.ord, t.level, n.nspname, c.relname`,
    [qualifiedTables],
  );
  const trees = qualifiedTables.map((): PartitionNode[] => []);
  for (const { ord, ...node } of rows) trees[ord - 1].push(node);
  return trees;
}

/** The partitioned index `qualifiedIndex` is attached to, if it is attached to one. */
export async function attachedTo(db: pg.ClientBase, qualifiedIndex: string): Promise<{ schema: string; name: string } | null> {
  const { rows } = await db.query<{ schema: string; name: string }>(
    `SELECT
       n.nspname AS schema,
       p.relname AS name
     FROM pg_inherits i
     JOIN pg_class p     ON p.oid = i.inhparent
     JOIN pg_namespace n ON n.oid = p.relnamespace
    WHERE i.inhrelid = to_regclass($1)`,
    [qualifiedIndex],
  );
  return rows[0] ?? null;
}

/** Table sizes in bytes by qualified name (identifier-quoted), 0 for one that does not exist. */
export async function relationBytes(db: pg.ClientBase, qualifiedNames: string[]): Promise<number[]> {
  const { rows } = await db.query<{ bytes: string }>(
    `SELECT coalesce(pg_relation_size(to_regclass(name)), 0) AS bytes
       FROM unnest($1::text[]) WITH ORDINALITY AS r(name, ord)
      ORDER BY ord`,
    [qualifiedNames],
  );
  return rows.map((r) => Number(r.bytes));
}

export interface LeafCoverage {
  schema: string;
  table: string;
  /** The leaf index attached (at any depth) under the partitioned index; null when the leaf has none. */
  index: string | null;
  valid: boolean;
}

/**
 * For a partitioned index: every leaf partition of its table, with the index attached under it for
 * that leaf. Null when `qualifiedIndex` is not a partitioned index.
 */
export async function leafCoverage(db: pg.ClientBase, qualifiedIndex: string): Promise<LeafCoverage[] | null> {
  const { rows } = await db.query<LeafCoverage & { partitioned: boolean }>(
    `WITH idx AS (
       SELECT x.indexrelid AS oid, x.indrelid AS tableoid, c.relkind = 'I' AS partitioned
         FROM pg_index x
         JOIN pg_class c ON c.oid = x.indexrelid
        WHERE x.indexrelid = to_regclass($1)
     ),
     leaf_tables AS (
       SELECT t.relid
         FROM idx, pg_partition_tree(idx.tableoid) t
        WHERE idx.partitioned AND t.isleaf
     ),
     leaf_indexes AS (
       SELECT x.indrelid AS relid, x.indexrelid, x.indisvalid
         FROM idx, pg_partition_tree(idx.oid) t
         JOIN pg_index x ON x.indexrelid = t.relid
        WHERE idx.partitioned AND t.isleaf
     )
     SELECT
       idx.partitioned                 AS partitioned,
       n.nspname                       AS schema,
       c.relname                       AS "table",
       i.relname                       AS index,
       coalesce(li.indisvalid, false)  AS valid
     FROM idx
     LEFT JOIN leaf_tables l    ON true
     LEFT JOIN pg_class c       ON c.oid = l.relid
     LEFT JOIN pg_namespace n   ON n.oid = c.relnamespace
     LEFT JOIN leaf_indexes li  ON li.relid = l.relid
     LEFT JOIN pg_class i       ON i.oid = li.indexrelid
    ORDER BY n.nspname, c.relname`,
    [qualifiedIndex],
  );
  if (!rows.length || !rows[0].partitioned) return null;
  return rows.filter((r) => r.table !== null).map(({ schema, table, index, valid }) => ({ schema, table, index, valid }));
}
