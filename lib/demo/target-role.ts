import { randomBytes } from "node:crypto";
import { quoteIdent, quoteQualified } from "../sql/quote";
import { withClient } from "../store/pool";

export interface TargetRoleNames {
  /** NOLOGIN role that owns the target's tables and its schema; nobody signs in as it. */
  owner: string;
  /** The role indexdeck connects as: a member of `owner`, and nothing more than a rollout needs. */
  deploy: string;
}

export const DEMO_TARGET_ROLES: TargetRoleNames = { owner: "chefcloud_owner", deploy: "chefcloud_deploy" };

/**
 * Sets up the demo's target role (README, "The target role: least privilege", says why each grant):
 *
 * - `owner` (NOLOGIN) owns every table of `public` and the schema itself. PostgreSQL lets only a
 *   table's owner, or a member of the owning role, CREATE/DROP INDEX, REINDEX, COMMENT ON INDEX and
 *   ANALYZE it (before 17 there is no narrower grant, and MAINTAIN in 17 still leaves out CREATE and
 *   DROP INDEX); CREATE INDEX also needs CREATE on the table's schema, which its owner has without a
 *   grant that would make the schema writable by anyone else.
 * - `deploy` (LOGIN, not a superuser, no CREATEDB/CREATEROLE/REPLICATION/BYPASSRLS) inherits `owner`'s
 *   rights: INHERIT, because indexdeck never runs SET ROLE (a change set may not either); from
 *   PostgreSQL 16 with SET FALSE, so it cannot become `owner` or create objects owned by it.
 * - `deploy` gets pg_read_all_stats (other sessions in pg_stat_activity and
 *   pg_stat_progress_create_index, every role's pg_stat_statements) and pg_read_all_settings
 *   (data_directory, for the disk check on this host); CONNECT on the target databases, which PUBLIC
 *   loses, as it loses TEMPORARY. No pg_signal_backend: it may cancel only its own sessions.
 *
 * Idempotent; each call gives `deploy` a new random password. Returns URLs that connect as `deploy`.
 */
export async function ensureTargetRole(
  adminUrl: string,
  dbUrl: (db: string) => string,
  databases: string[],
  roles: TargetRoleNames = DEMO_TARGET_ROLES,
): Promise<{ url(db: string): string }> {
  const owner = quoteIdent(roles.owner);
  const deploy = quoteIdent(roles.deploy);
  const password = randomBytes(18).toString("base64url");
  await withClient(adminUrl, async (c) => {
    const {
      rows: [{ version }],
    } = await c.query<{ version: number }>("SELECT current_setting('server_version_num')::int AS version");
    const exists = async (name: string) => (await c.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [name])).rowCount === 1;
    if (!(await exists(roles.owner))) await c.query(`CREATE ROLE ${owner} NOLOGIN`);
    if (!(await exists(roles.deploy))) await c.query(`CREATE ROLE ${deploy} LOGIN`);
    // Set every time, so a role made by an earlier version, or widened by hand, is brought back.
    await c.query(`ALTER ROLE ${owner} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS`);
    await c.query(
      `ALTER ROLE ${deploy} LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD ${c.escapeLiteral(password)}`,
    );
    await c.query(version >= 160000 ? `GRANT ${owner} TO ${deploy} WITH INHERIT TRUE, SET FALSE` : `GRANT ${owner} TO ${deploy}`);
    await c.query(`GRANT pg_read_all_stats, pg_read_all_settings TO ${deploy}`);
  });
  for (const db of databases) {
    await withClient(dbUrl(db), async (c) => {
      await c.query(`REVOKE CONNECT, TEMPORARY ON DATABASE ${quoteIdent(db)} FROM PUBLIC`);
      await c.query(`GRANT CONNECT ON DATABASE ${quoteIdent(db)} TO ${deploy}`);
      // Before PostgreSQL 15 every role may create in public (the CVE-2018-1058 pattern): not here.
      await c.query("REVOKE CREATE ON SCHEMA public FROM PUBLIC");
      await c.query(`ALTER SCHEMA public OWNER TO ${owner}`);
      // Indexes and the sequences of identity columns follow their table's owner.
      const { rows } = await c.query<{ schema: string; name: string; kind: string }>(
        `
        SELECT
          n.nspname          AS schema,
          c.relname          AS name,
          c.relkind::text    AS kind
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public'
          AND c.relkind IN ('r', 'p', 'm')
          AND c.relowner <> to_regrole($1)::oid`,
        [roles.owner],
      );
      for (const r of rows) {
        await c.query(`ALTER ${r.kind === "m" ? "MATERIALIZED VIEW" : "TABLE"} ${quoteQualified(r.schema, r.name)} OWNER TO ${owner}`);
      }
      // Verify checks each new B-tree index with amcheck (it takes only an AccessShareLock); its
      // functions are the superuser's until granted.
      await c.query("CREATE EXTENSION IF NOT EXISTS amcheck");
      await c.query(`GRANT EXECUTE ON FUNCTION bt_index_check(regclass, boolean) TO ${deploy}`);
    });
  }
  return {
    url: (db) => {
      const u = new URL(dbUrl(db));
      u.username = roles.deploy;
      u.password = password;
      return u.toString();
    },
  };
}
