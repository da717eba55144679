import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { can, ForbiddenError, ROLES, type Actor } from "../auth/policy";
import { claimJob, enqueueJob } from "../jobs/queue";
import { withTransaction } from "../store/pool";
import { freshDatabase, pgServers } from "../testing/db";
import {
  JOB_PHASES,
  allowedPhases,
  isJobPhase,
  MACHINE,
  PHASES,
  requestPhase,
  ROLLOUT_STATES,
  settle,
  STAY,
  type JobPhase,
  type Outcome,
  type RolloutState,
} from "./machine";
import { createRollout, getRollout, RolloutError } from "./rollouts";
import { DBA, testTargets, uploadChangeSet } from "./testing";
import { fixedTargets } from "../targets/source";

const SQL = "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_a ON t (a);\n";
const PASSED_PRECHECK = { at: "2026-11-30T00:00:00Z", ok: true, checks: [] };

describe("the declaration", () => {
  it("leads every outcome to a state, or leaves the state as it was", () => {
    for (const phase of PHASES) {
      for (const to of Object.values(MACHINE[phase].on)) expect([...ROLLOUT_STATES, STAY]).toContain(to);
      const running: RolloutState | null = MACHINE[phase].running;
      if (running) expect(ROLLOUT_STATES).toContain(running);
    }
  });

  it("keeps the safety facts the rest of indexdeck relies on", () => {
    // Only a pre-checked rollout is applied, and a cancelled one (a rejection too) can only be rolled back.
    expect(PHASES.filter((p) => (MACHINE[p].from as readonly string[]).includes("prechecked"))).toEqual(["precheck", "apply"]);
    expect(PHASES.filter((p) => (MACHINE[p].from as readonly string[]).includes("cancelled"))).toEqual(["rollback"]);
    // Nothing may be started while an apply runs but its cancel.
    expect(PHASES.filter((p) => (MACHINE[p].from as readonly string[]).includes("applying"))).toEqual(["cancel"]);
  });
});

describe.each(pgServers())("the machine on $name PostgreSQL", (server) => {
  let pool: pg.Pool;
  let targets: ReturnType<typeof testTargets>;
  let rolloutId: number;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: await freshDatabase(server) });
    targets = testTargets(await freshDatabase(server, "empty"));
    const changesetId = await uploadChangeSet(pool, "machine.sql", SQL);
    rolloutId = (await createRollout(pool, fixedTargets(targets), { changesetId, targetId: "stage" }, DBA)).id;
  });
  afterAll(async () => {
    await pool.end();
  });

  /** Puts the rollout in `state` with no job and a passed pre-check: only the machine's declaration can refuse then. */
  async function putIn(state: RolloutState): Promise<void> {
    await pool.query("DELETE FROM job WHERE rollout_id = $1", [rolloutId]);
    await pool.query("UPDATE rollout SET state = $2, precheck = $3, error = NULL, cancel_requested = false WHERE id = $1", [
      rolloutId,
      state,
      PASSED_PRECHECK,
    ]);
  }

  it("is declared with exactly the states the store's CHECK on rollout.state allows", async () => {
    const { rows } = await pool.query<{ def: string }>(
      `SELECT pg_get_constraintdef(c.oid) AS def
         FROM pg_constraint c
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
        WHERE c.conrelid = 'rollout'::regclass AND c.contype = 'c' AND a.attname = 'state'`,
    );
    expect(rows).toHaveLength(1);
    const allowed = [...rows[0].def.matchAll(/'([a-z_]+)'::text/g)].map((m) => m[1]);
    expect(allowed.sort()).toEqual([...ROLLOUT_STATES].sort());
  });

  // Every (state, phase, role): requestPhase accepts exactly what the declaration allows, and the
  // page shows a button for exactly that (allowedPhases).
  it("accepts a phase exactly where its declaration allows it, for every state and role", async () => {
    const seen: string[] = [];
    for (const state of ROLLOUT_STATES) {
      for (const phase of PHASES) {
        for (const role of ROLES) {
          await putIn(state);
          const actor: Actor = { id: 90, email: `someone-${role}`, role };
          const declared = MACHINE[phase];
          const outcome = await requestPhase(
            pool,
            rolloutId,
            phase,
            actor,
            { reason: "a reason given", expectedState: state },
            fixedTargets(targets),
          ).then(
            () => "accepted",
            (err: unknown) =>
              err instanceof ForbiddenError ? "forbidden" : err instanceof RolloutError ? `refused ${err.status}` : `threw ${err}`,
          );
          const wanted = !can(role, declared.permission)
            ? "forbidden"
            : (declared.from as readonly string[]).includes(state)
              ? "accepted"
              : "refused 409";
          if (outcome !== wanted) seen.push(`${state} × ${phase} × ${role}: ${outcome}, declared ${wanted}`);
          if (allowedPhases(state, role).includes(phase) !== (wanted === "accepted"))
            seen.push(`${state} × ${phase} × ${role}: allowedPhases disagrees`);
          const after = (await getRollout(pool, rolloutId))!;
          const running: RolloutState | null = declared.running;
          expect(after.state).toBe(outcome === "accepted" && running ? running : state);
          const {
            rows: [{ jobs }],
          } = await pool.query<{ jobs: number }>("SELECT count(*)::int AS jobs FROM job WHERE rollout_id = $1", [rolloutId]);
          expect(jobs).toBe(outcome === "accepted" && declared.job ? 1 : 0);
        }
      }
    }
    expect(seen).toEqual([]);
  });

  it("refuses with what the phase needs, from the declaration", async () => {
    await putIn("verified");
    await expect(requestPhase(pool, rolloutId, "apply", DBA, {}, fixedTargets(targets))).rejects.toThrow(
      `cannot apply rollout ${rolloutId} while it is verified; apply needs prechecked`,
    );
  });

  // settle: each outcome of each job moves the state where the declaration leads it, with the audit row and the job.
  it("settles every outcome of every job as declared", async () => {
    const wrong: string[] = [];
    for (const phase of PHASES.filter(isJobPhase)) {
      for (const outcome of Object.keys(MACHINE[phase].on) as Outcome<JobPhase>[]) {
        const from: RolloutState = MACHINE[phase].running ?? MACHINE[phase].from[0];
        await putIn(from);
        await withTransaction(pool, (tx) => enqueueJob(tx, phase, rolloutId));
        const job = (await claimJob(pool, "machine-test", JOB_PHASES))!;
        const rollout = (await getRollout(pool, rolloutId))!;
        await settle(pool, {
          job,
          rollout,
          phase,
          outcome,
          error: outcome === "ok" ? null : "it broke",
          jobError: null,
          audit: { outcome },
        });
        const to: string = MACHINE[phase].on[outcome as keyof (typeof MACHINE)[typeof phase]["on"]];
        const after = (await getRollout(pool, rolloutId))!;
        if (after.state !== (to === STAY ? from : to)) wrong.push(`${phase}/${outcome}: ${from} → ${after.state}, declared ${to}`);
        if (outcome !== "ok" && !after.error) wrong.push(`${phase}/${outcome}: no error on the rollout`);
        const { rows: audit } = await pool.query(
          "SELECT 1 FROM audit_log WHERE rollout_id = $1 AND action = $2 AND details->>'outcome' = $3",
          [rolloutId, `rollout.${phase}.end`, outcome],
        );
        if (audit.length !== 1) wrong.push(`${phase}/${outcome}: ${audit.length} audit rows`);
        const { rows: jobs } = await pool.query<{ kind: string; state: string }>(
          "SELECT kind, state FROM job WHERE rollout_id = $1 ORDER BY id",
          [rolloutId],
        );
        const then: Record<string, string> | undefined = (MACHINE[phase] as { then?: Record<string, string> }).then;
        expect(jobs).toEqual([{ kind: phase, state: "done" }, ...(then?.[outcome] ? [{ kind: then[outcome], state: "queued" }] : [])]);
      }
    }
    expect(wrong).toEqual([]);
  });
});
