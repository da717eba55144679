import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, pgServers } from "../testing/db";
import { parseTargetsFile } from "../targets/config";
import { decideRollout } from "./approvals";
import { createRollout, getRollout } from "./rollouts";
import { DBA, SRE, uploadChangeSet } from "./testing";
import { fixedTargets } from "../targets/source";

const ADMIN = { id: 3, email: "admin", role: "admin" as const };
const ENGINEER = { id: 4, email: "engineer", role: "engineer" as const };
const SQL = "SET lock_timeout = '2s';\nSET statement_timeout = 0;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS a_idx ON t (x);\n";

describe.each(pgServers())("four-eyes approval on $name PostgreSQL", (server) => {
  let pool: pg.Pool;
  const targets = parseTargetsFile(
    JSON.stringify({
      targets: [
        {
          id: "prod",
          label: "P",
          environment: "production",
          url: "postgres://x@127.0.0.1:1/x",
          approvals: { required: 2, roles: ["dba", "sre", "admin"] },
        },
      ],
    }),
    "t.json",
  );
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: await freshDatabase(server) });
  });
  afterAll(() => pool.end());

  async function newRollout(name: string) {
    return createRollout(
      pool,
      fixedTargets(targets),
      { changesetId: await uploadChangeSet(pool, name, SQL.replace("a_idx", name.replace(".sql", ""))), targetId: "prod" },
      SRE,
    );
  }
  const ok = (sha: string) => ({ decision: "approve" as const, comment: "reviewed the SQL", changesetSha256: sha, targetId: "prod" });

  it("needs two distinct approvers who are not the requester", async () => {
    const r = await newRollout("r1.sql");
    expect(r.state).toBe("awaiting_approval");
    await expect(decideRollout(pool, fixedTargets(targets), r.id, SRE, ok(r.changesetSha256))).rejects.toThrow(
      /you requested this rollout/,
    );
    expect(await decideRollout(pool, fixedTargets(targets), r.id, DBA, ok(r.changesetSha256))).toEqual({
      message: "approval recorded (1 of 2)",
    });
    await expect(decideRollout(pool, fixedTargets(targets), r.id, DBA, ok(r.changesetSha256))).rejects.toThrow(/dba has already decided/);
    expect((await getRollout(pool, r.id))!.state).toBe("awaiting_approval");
    await decideRollout(pool, fixedTargets(targets), r.id, ADMIN, ok(r.changesetSha256));
    expect((await getRollout(pool, r.id))!.state).toBe("approved");
  });

  it("refuses forged or replayed forms: other SQL, another target, a role the policy excludes, no comment", async () => {
    const r = await newRollout("r2.sql");
    await expect(decideRollout(pool, fixedTargets(targets), r.id, DBA, ok("f".repeat(64)))).rejects.toThrow(
      /reload and review the SQL again/,
    );
    await expect(decideRollout(pool, fixedTargets(targets), r.id, DBA, { ...ok(r.changesetSha256), targetId: "staging" })).rejects.toThrow(
      /names target staging/,
    );
    await expect(decideRollout(pool, fixedTargets(targets), r.id, ENGINEER, ok(r.changesetSha256))).rejects.toThrow(/not engineer/);
    const { ApprovalInput } = await import("./approvals");
    expect(ApprovalInput.safeParse({ ...ok(r.changesetSha256), comment: "  " }).success).toBe(false);
    expect((await pool.query("SELECT count(*)::int AS n FROM approval WHERE rollout_id = $1", [r.id])).rows[0].n).toBe(0);
  });

  it("enforces distinct approvers in the store itself", async () => {
    const r = await newRollout("r3.sql");
    await decideRollout(pool, fixedTargets(targets), r.id, DBA, ok(r.changesetSha256));
    await expect(
      pool.query(
        "INSERT INTO approval (rollout_id, changeset_sha256, target_id, approver, approver_role, decision, comment) VALUES ($1, $2, 'prod', 'dba', 'dba', 'approve', 'again')",
        [r.id, r.changesetSha256],
      ),
    ).rejects.toThrow(/duplicate key/);
  });

  it("cancels the rollout on a rejection, with the reason", async () => {
    const r = await newRollout("r4.sql");
    await decideRollout(pool, fixedTargets(targets), r.id, DBA, {
      ...ok(r.changesetSha256),
      decision: "reject",
      comment: "wrong column order",
    });
    expect(await getRollout(pool, r.id)).toMatchObject({ state: "cancelled", error: "rejected by dba: wrong column order" });
  });
});

describe("a rejected rollout", () => {
  it("can never be pre-checked or applied", async () => {
    const { requestPhase } = await import("./machine");
    const server = pgServers()[0];
    const pool = new pg.Pool({ connectionString: await freshDatabase(server) });
    const targets = parseTargetsFile(
      JSON.stringify({
        targets: [{ id: "s", label: "S", environment: "staging", url: "postgres://x@127.0.0.1:1/x", approvals: { required: 1 } }],
      }),
      "t.json",
    );
    const r = await createRollout(
      pool,
      fixedTargets(targets),
      { changesetId: await uploadChangeSet(pool, "rej.sql", SQL), targetId: "s" },
      SRE,
    );
    await decideRollout(pool, fixedTargets(targets), r.id, DBA, {
      decision: "reject",
      comment: "no",
      changesetSha256: r.changesetSha256,
      targetId: "s",
    });
    await expect(requestPhase(pool, r.id, "precheck", DBA, { backupId: "b" }, fixedTargets(targets))).rejects.toThrow(
      /while it is cancelled/,
    );
    await expect(requestPhase(pool, r.id, "apply", DBA, {}, fixedTargets(targets))).rejects.toThrow(/while it is cancelled/);
    await pool.end();
  });
});
