import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRunner } from "../jobs/runner";
import { runPhaseJob } from "../rollout/run-phase";
import { requestPhase } from "../rollout/machine";
import { createRollout, getRollout, rolloutTasks } from "../rollout/rollouts";
import { DBA, settledVerify, testTargets, waitForState } from "../rollout/testing";
import { quoteIdent } from "../sql/quote";
import { archiverStatus, dataDirectory, serverOverview } from "../targets/catalog";
import { databaseUrl, freshDatabase, freshRole, pgServers } from "../testing/db";
import { ensureChefcloud } from "./chefcloud";
import { ensureTargetRole } from "./target-role";
import { fixedTargets } from "../targets/source";

async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  c.on("error", () => undefined);
  await c.connect();
  return c;
}

describe.each(pgServers())("the demo's target role on $name PostgreSQL", (server) => {
  // Roles belong to the whole server, which other test runs share: names of this run's own.
  const suffix = randomBytes(4).toString("hex");
  const roles = { owner: `own_${suffix}`, deploy: `dep_${suffix}` };
  const db = `chef_${suffix}`;
  let deployUrl: string;
  let version: number;

  beforeAll(async () => {
    await ensureChefcloud(
      server.adminUrl,
      (d) => databaseUrl(server, d),
      db,
      100_000,
      () => undefined,
    );
    // Twice: it must be idempotent (the demo runs it at every start), and the second password is the one in force.
    await ensureTargetRole(server.adminUrl, (d) => databaseUrl(server, d), [db], roles);
    deployUrl = (await ensureTargetRole(server.adminUrl, (d) => databaseUrl(server, d), [db], roles)).url(db);
    const admin = await connect(server.adminUrl);
    version = Number((await admin.query("SHOW server_version_num")).rows[0].server_version_num);
    await admin.end();
  }, 120_000);

  afterAll(async () => {
    const admin = await connect(server.adminUrl);
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(db)} WITH (FORCE)`);
      await admin.query(`DROP ROLE IF EXISTS ${quoteIdent(roles.deploy)}`);
      await admin.query(`DROP ROLE IF EXISTS ${quoteIdent(roles.owner)}`);
    } finally {
      await admin.end();
    }
  });

  it("is not a superuser and holds no role attribute beyond LOGIN and INHERIT; the tables belong to another role", async () => {
    const c = await connect(deployUrl);
    try {
      const {
        rows: [me],
      } = await c.query(
        "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolinherit, rolcanlogin FROM pg_roles WHERE rolname = current_user",
      );
      expect(me).toEqual({
        rolsuper: false,
        rolcreatedb: false,
        rolcreaterole: false,
        rolreplication: false,
        rolbypassrls: false,
        rolinherit: true,
        rolcanlogin: true,
      });
      expect((await c.query("SELECT current_setting('is_superuser') AS s")).rows[0].s).toBe("off");
      const { rows: owners } = await c.query(
        "SELECT DISTINCT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'",
      );
      expect(owners).toEqual([{ owner: roles.owner }]);
      expect((await c.query("SELECT pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = 'public'")).rows[0].owner).toBe(
        roles.owner,
      );
      // Only the owner may create in the schema: no grant to PUBLIC or anyone else.
      expect((await c.query("SELECT has_schema_privilege('public', 'public', 'CREATE') AS ok")).rows[0].ok).toBe(false);
      if (version >= 160000) await expect(c.query(`SET ROLE ${quoteIdent(roles.owner)}`)).rejects.toThrow(/permission denied to set role/);
      await expect(c.query("CREATE TEMP TABLE scratch (x int)")).rejects.toThrow(/permission denied to create temporary tables/);
      await expect(c.query("CREATE ROLE nope")).rejects.toThrow(/permission denied to create role/);
    } finally {
      await c.end();
    }
  });

  it("reads what pre-check, progress and probes read, sees other sessions, and may cancel only its own", async () => {
    const c = await connect(deployUrl);
    const other = await connect(databaseUrl(server, db)); // a superuser's session
    const mine = await connect(deployUrl);
    try {
      await other.query("SET application_name = 'someone_else'");
      await other.query("SELECT 42 AS watched");
      const {
        rows: [seen],
      } = await c.query("SELECT pid, query FROM pg_stat_activity WHERE application_name = 'someone_else'");
      expect(seen.query).toBe("SELECT 42 AS watched");
      await expect(c.query("SELECT pg_cancel_backend($1)", [seen.pid])).rejects.toThrow(
        /permission denied to cancel query|must be a superuser to cancel/,
      );
      const minePid = (await mine.query("SELECT pg_backend_pid() AS pid")).rows[0].pid;
      // Settled into a value at once, so its rejection is never an unhandled one while the test waits.
      const sleeping = mine.query("SELECT pg_sleep(30)").then(
        () => null,
        (err: Error) => err,
      );
      for (
        let i = 0;
        i < 50 && !(await c.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event = 'PgSleep'", [minePid])).rowCount;
        i++
      )
        await new Promise((r) => setTimeout(r, 50));
      expect((await c.query("SELECT pg_cancel_backend($1) AS ok", [minePid])).rows[0].ok).toBe(true);
      expect((await sleeping)?.message).toBe("canceling statement due to user request");
      expect((await archiverStatus(c)).archiveMode).toBeTypeOf("string");
      expect(await dataDirectory(c)).toMatch(/\//);
      expect((await serverOverview(c)).databaseBytes).toBeGreaterThan(0);
      expect((await c.query("SELECT count(*)::int AS n FROM pg_stat_progress_create_index")).rows[0].n).toBeGreaterThanOrEqual(0);
    } finally {
      await Promise.all([c.end(), other.end(), mine.end()]);
    }
  });

  it("needs each grant: a role with only CONNECT can neither build an index nor see other sessions or the data directory", async () => {
    const plain = await freshRole(server);
    const admin = await connect(databaseUrl(server, db));
    const other = await connect(databaseUrl(server, db));
    await admin.query(`GRANT CONNECT ON DATABASE ${quoteIdent(db)} TO ${quoteIdent(plain.name)}`);
    const c = await connect(plain.url(databaseUrl(server, db)));
    try {
      await other.query("SET application_name = 'someone_else'");
      await other.query("SELECT 42 AS watched");
      expect((await c.query("SELECT query FROM pg_stat_activity WHERE application_name = 'someone_else'")).rows[0].query).toBe(
        "<insufficient privilege>",
      );
      expect(await dataDirectory(c)).toBeNull();
      await expect(c.query("CREATE INDEX CONCURRENTLY nope ON payments (id)")).rejects.toThrow(/must be owner of table payments/);
      // Membership in the owner alone is not enough either: CREATE INDEX also needs CREATE on the schema,
      // which the owner role has as the schema's owner.
      await admin.query(`GRANT ${quoteIdent(roles.owner)} TO ${quoteIdent(plain.name)}`);
      await admin.query("ALTER SCHEMA public OWNER TO CURRENT_USER");
      await expect(c.query("CREATE INDEX CONCURRENTLY nope ON payments (id)")).rejects.toThrow(/permission denied for schema public/);
    } finally {
      await admin.query(`ALTER SCHEMA public OWNER TO ${quoteIdent(roles.owner)}`);
      await admin.query(`REVOKE ${quoteIdent(roles.owner)} FROM ${quoteIdent(plain.name)}`);
      await admin.query(`REVOKE CONNECT ON DATABASE ${quoteIdent(db)} FROM ${quoteIdent(plain.name)}`);
      await Promise.all([c.end(), admin.end(), other.end()]);
    }
  });

  it("rolls out the seed change set end to end (pre-check, apply, verify), and may REINDEX, COMMENT ON, ANALYZE and DROP what it built", async () => {
    const pool = new pg.Pool({ connectionString: await freshDatabase(server) });
    const targets = testTargets(deployUrl);
    const runner = startRunner({
      pool,
      pollMs: 100,
      log: () => undefined,
      handle: (job) => runPhaseJob({ pool, targets: fixedTargets(targets), probe: { samples: 10, paceMs: 0 } }, job),
    });
    try {
      const r = await createRollout(pool, fixedTargets(targets), { changesetId: "file:001_franchise_indexes.sql", targetId: "stage" }, DBA);
      await requestPhase(pool, r.id, "precheck", DBA, { backupId: "b" }, fixedTargets(targets));
      expect(await waitForState(pool, r.id, ["prechecked", "approved"], 60_000)).toBe("prechecked");
      const disk = (await getRollout(pool, r.id))!.precheck!.checks.find((x) => x.id === "disk-space");
      // pg_read_all_settings lets pre-check find the data directory and measure its disk itself.
      expect(disk?.evidence).toMatchObject({ method: "statfs of the data directory (target runs on this host)" });
      await requestPhase(pool, r.id, "apply", DBA, {}, fixedTargets(targets));
      expect(await settledVerify(pool, r.id, 120_000)).toEqual({ state: "verified", error: null, failed: [] });
      expect((await rolloutTasks(pool, r.id)).filter((t) => t.kind === "create_index").map((t) => t.status)).toEqual(Array(6).fill("done"));
      // The demo's targets have amcheck, and the deploy role may run bt_index_check on what it built.
      const checked = (await getRollout(pool, r.id))!.verify!.indexes.map(
        (c) => (c.evidence as { amcheck?: { status: string } }).amcheck?.status,
      );
      expect(checked).toEqual(Array(6).fill("ok"));
    } finally {
      await runner.stop();
      await pool.end();
    }
    const c = await connect(deployUrl);
    try {
      // An index belongs to its table's owner, whoever built it.
      expect(
        (await c.query("SELECT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE relname = 'idx_payments_org_status_created'")).rows[0]
          .owner,
      ).toBe(roles.owner);
      await c.query("REINDEX INDEX CONCURRENTLY idx_payments_org_status_created");
      await c.query("COMMENT ON INDEX idx_payments_org_status_created IS 'rolled out by the deploy role'");
      await c.query("ANALYZE payments");
      await c.query("DROP INDEX CONCURRENTLY IF EXISTS idx_payments_org_status_created");
      expect((await c.query("SELECT to_regclass('idx_payments_org_status_created') AS i")).rows[0].i).toBeNull();
    } finally {
      await c.end();
    }
  }, 240_000);
});
