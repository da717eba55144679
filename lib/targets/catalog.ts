import type pg from "pg";

export interface ServerOverview {
  serverVersion: string;
  serverVersionNum: number;
  databaseName: string;
  databaseBytes: number;
}

export async function serverOverview(db: pg.ClientBase): Promise<ServerOverview> {
  const {
    rows: [row],
  } = await db.query<ServerOverview>(`
    SELECT
      current_setting('server_version')                  AS "serverVersion",
      current_setting('server_version_num')::int          AS "serverVersionNum",
      current_database()                                  AS "databaseName",
      pg_database_size(current_database())                AS "databaseBytes"`);
  return row;
}

export interface RelationRow {
  oid: number;
  schema: string;
  name: string;
  relkind: string;
  bytes: number;
  columns: string[];
}

/** A table as the server resolves `qualifiedName` (already identifier-quoted) through its search_path. */
export async function relationByName(db: pg.ClientBase, qualifiedName: string): Promise<RelationRow | null> {
  const { rows } = await db.query<RelationRow>(
    `SELECT
       c.oid::int                        AS oid,
       n.nspname                         AS schema,
       c.relname                         AS name,
       c.relkind::text                   AS relkind,
       -- A partitioned table has no storage of its own: its size is its leaves' (what an index on it builds over).
       CASE WHEN c.relkind = 'p'
            THEN (SELECT coalesce(sum(pg_relation_size(t.relid)), 0) FROM pg_partition_tree(c.oid) t WHERE t.isleaf)
            ELSE pg_relation_size(c.oid)
       END                               AS bytes,
       ARRAY(
         SELECT a.attname::text
           FROM pg_attribute a
          WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
          ORDER BY a.attnum
       )                                 AS columns
     FROM pg_class c
     JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.oid = to_regclass($1)`,
    [qualifiedName],
  );
  return rows[0] ?? null;
}

/** An index's key columns in order (NULL for an expression key), for a query over pg_index x. */
export const INDEX_KEY_COLUMNS = `ARRAY(
  SELECT a.attname::text
    FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
    LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum AND k.attnum > 0
   WHERE k.ord <= x.indnkeyatts
   ORDER BY k.ord)`;

export interface IndexDefinitionRow {
  name: string;
  method: string;
  valid: boolean;
  hasPredicate: boolean;
  /** Key columns in order; null for an expression key. */
  columns: Array<string | null>;
}

export async function indexesOfRelation(db: pg.ClientBase, relationOid: number): Promise<IndexDefinitionRow[]> {
  const { rows } = await db.query<IndexDefinitionRow>(
    `SELECT
       i.relname                  AS name,
       am.amname                  AS method,
       x.indisvalid               AS valid,
       x.indpred IS NOT NULL      AS "hasPredicate",
       ${INDEX_KEY_COLUMNS}      AS columns
     FROM pg_index x
     JOIN pg_class i ON i.oid = x.indexrelid
     JOIN pg_am am ON am.oid = i.relam
    WHERE x.indrelid = $1
    ORDER BY i.relname`,
    [relationOid],
  );
  return rows;
}

/** The index named `qualifiedName` (identifier-quoted), if one exists, with its validity. */
export async function indexByName(db: pg.ClientBase, qualifiedName: string): Promise<{ valid: boolean; table: string } | null> {
  const { rows } = await db.query<{ valid: boolean; table: string }>(
    `SELECT
       x.indisvalid AS valid,
       t.relname    AS "table"
     FROM pg_index x
     JOIN pg_class t ON t.oid = x.indrelid
    WHERE x.indexrelid = to_regclass($1)`,
    [qualifiedName],
  );
  return rows[0] ?? null;
}

export interface IndexState {
  exists: boolean;
  valid: boolean;
  ready: boolean;
  definition: string | null;
  bytes: number | null;
  table: string | null;
  /** The index's schema, whatever path resolved it. */
  schema: string | null;
}

/** Whether an index exists and whether PostgreSQL considers it valid and ready. */
export async function indexState(db: pg.ClientBase, qualifiedName: string): Promise<IndexState> {
  const { rows } = await db.query<IndexState>(
    `SELECT
       true                              AS exists,
       x.indisvalid                      AS valid,
       x.indisready                      AS ready,
       pg_get_indexdef(x.indexrelid)     AS definition,
       pg_relation_size(x.indexrelid)    AS bytes,
       t.relname                         AS "table",
       n.nspname                         AS schema
     FROM pg_index x
     JOIN pg_class t     ON t.oid = x.indrelid
     JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE x.indexrelid = to_regclass($1)`,
    [qualifiedName],
  );
  return rows[0] ?? { exists: false, valid: false, ready: false, definition: null, bytes: null, table: null, schema: null };
}

export interface ArchiverRow {
  archiveMode: string;
  archivedCount: number;
  lastArchivedAgeSeconds: number | null;
  lastFailedAgeSeconds: number | null;
  lastArchivedWal: string | null;
}

export async function archiverStatus(db: pg.ClientBase): Promise<ArchiverRow> {
  const {
    rows: [row],
  } = await db.query<ArchiverRow>(`
    SELECT
      current_setting('archive_mode')                                         AS "archiveMode",
      archived_count                                                          AS "archivedCount",
      extract(epoch FROM clock_timestamp() - last_archived_time)::float8      AS "lastArchivedAgeSeconds",
      extract(epoch FROM clock_timestamp() - last_failed_time)::float8        AS "lastFailedAgeSeconds",
      last_archived_wal                                                       AS "lastArchivedWal"
    FROM pg_stat_archiver`);
  return row;
}

export interface ReplicationRow {
  inRecovery: boolean;
  replicas: number;
  maxReplayLagSeconds: number | null;
}

export async function replicationStatus(db: pg.ClientBase): Promise<ReplicationRow> {
  const {
    rows: [row],
  } = await db.query<ReplicationRow>(`
    SELECT
      pg_is_in_recovery()                                                     AS "inRecovery",
      (SELECT count(*)::int FROM pg_stat_replication)                         AS replicas,
      (SELECT max(extract(epoch FROM replay_lag))::float8 FROM pg_stat_replication) AS "maxReplayLagSeconds"`);
  return row;
}

/**
 * The data directory, when the role may read it (superuser or pg_read_all_settings), else null.
 * Asked first: for a role without either, current_setting raises even with missing_ok, which only
 * covers a setting that does not exist (pg_has_role is true for superusers).
 */
export async function dataDirectory(db: pg.ClientBase): Promise<string | null> {
  const {
    rows: [row],
  } = await db.query<{ dir: string | null }>(`
    SELECT
      CASE WHEN pg_has_role('pg_read_all_settings', 'USAGE')
           THEN current_setting('data_directory')
      END AS dir`);
  return row.dir || null;
}

export async function preparedTransactions(db: pg.ClientBase): Promise<Array<{ gid: string; ageSeconds: number }>> {
  const { rows } = await db.query<{ gid: string; ageSeconds: number }>(`
    SELECT
      gid,
      extract(epoch FROM clock_timestamp() - prepared)::float8 AS "ageSeconds"
    FROM pg_prepared_xacts
    WHERE database = current_database()`);
  return rows;
}

/**
 * pg_stat_statements' calls and mean execution time of a query, found by its query identifier
 * (EXPLAIN VERBOSE reports it), since the extension stores constants as $n and texts need not match.
 * Null when the extension is not installed in this database, not preloaded, or has not seen the query.
 */
export async function statementStats(
  db: pg.ClientBase,
  query: string,
  params: unknown[],
): Promise<{ calls: number; meanMs: number } | null> {
  try {
    // Text format: the 64-bit identifier would lose digits as a JSON number in JavaScript.
    const { rows: lines } = await db.query<{ "QUERY PLAN": string }>(`EXPLAIN (VERBOSE, FORMAT TEXT) ${query}`, params);
    const queryId = lines.map((l) => /^\s*Query Identifier: (-?\d+)/.exec(l["QUERY PLAN"])?.[1]).find(Boolean);
    if (!queryId || queryId === "0") return null;
    const { rows } = await db.query<{ calls: number; meanMs: number }>(
      `SELECT sum(calls)::float8 AS calls, (sum(total_exec_time) / nullif(sum(calls), 0))::float8 AS "meanMs"
         FROM pg_stat_statements
        WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND queryid = $1::bigint
       HAVING sum(calls) > 0`,
      [queryId],
    );
    return rows[0] ?? null;
  } catch {
    return null;
  }
}
