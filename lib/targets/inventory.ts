import type pg from "pg";
import { INDEX_KEY_COLUMNS } from "./catalog";

export interface IndexRow {
  schema: string;
  table: string;
  name: string;
  method: string;
  /** Key columns in order; null for an expression key. */
  columns: Array<string | null>;
  expressions: string | null;
  predicate: string | null;
  unique: boolean;
  /** Backs a primary key, unique or exclusion constraint: never offered for dropping. */
  constraint: string | null;
  valid: boolean;
  buildInProgress: boolean;
  scans: number;
  tuplesRead: number;
  tuplesFetched: number;
  bytes: number;
  definition: string;
}

/** Every user index with its usage counters, size, validity and what it backs: one query. */
export async function indexInventory(db: pg.ClientBase): Promise<IndexRow[]> {
  const { rows } = await db.query<IndexRow>(`
    SELECT
      n.nspname                                   AS schema,
      t.relname                                   AS "table",
      i.relname                                   AS name,
      am.amname                                   AS method,
      ${INDEX_KEY_COLUMNS}                        AS columns,
      pg_get_expr(x.indexprs, x.indrelid)         AS expressions,
      pg_get_expr(x.indpred, x.indrelid)          AS predicate,
      x.indisunique                               AS "unique",
      c.conname                                   AS "constraint",
      x.indisvalid                                AS valid,
      EXISTS (SELECT 1 FROM pg_stat_progress_create_index p WHERE p.index_relid = x.indexrelid) AS "buildInProgress",
      coalesce(s.idx_scan, 0)                     AS scans,
      coalesce(s.idx_tup_read, 0)                 AS "tuplesRead",
      coalesce(s.idx_tup_fetch, 0)                AS "tuplesFetched",
      pg_relation_size(x.indexrelid)              AS bytes,
      pg_get_indexdef(x.indexrelid)               AS definition
    FROM pg_index x
    JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_class t ON t.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    JOIN pg_am am ON am.oid = i.relam
    LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = x.indexrelid
    LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.contype IN ('p', 'u', 'x')
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
    ORDER BY n.nspname, t.relname, i.relname`);
  return rows.map((r) => ({
    ...r,
    scans: Number(r.scans),
    tuplesRead: Number(r.tuplesRead),
    tuplesFetched: Number(r.tuplesFetched),
    bytes: Number(r.bytes),
  }));
}

export interface NodeClock {
  /** pg_control_system()'s system_identifier: the same on a primary and every physical replica of it (read only when asked). */
  systemIdentifier: string | null;
  inRecovery: boolean;
  /** When this database's statistics were last reset (null: never). */
  statsReset: Date | null;
  postmasterStart: Date;
}

/**
 * Whether a server is a replica and since when its counters count, and, when `identify` (a hardened server
 * may keep pg_control_system() from PUBLIC; only a target with replicas needs it), which cluster it is.
 */
export async function nodeClock(db: pg.ClientBase, identify: boolean): Promise<NodeClock> {
  const {
    rows: [row],
  } = await db.query<NodeClock>(
    `
    SELECT
      CASE WHEN $1 THEN (pg_control_system()).system_identifier::text END          AS "systemIdentifier",
      pg_is_in_recovery()                                                           AS "inRecovery",
      (SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()) AS "statsReset",
      pg_postmaster_start_time()                                                    AS "postmasterStart"`,
    [identify],
  );
  return row;
}
