import type pg from "pg";
import { can, targetInScope, type Actor } from "../auth/policy";
import { statesAt, type RolloutState } from "../rollout/machine";
import type { TargetConfig } from "../targets/config";
import { intervalCache } from "../serve/interval-cache";
import { targetStatus, type TargetStatus } from "../targets/status";
import { collectorStatuses, type CollectorStatus } from "./collector";
import { dueFollowups, type FollowupKind } from "./followups";
import type { TargetSource } from "../targets/source";

/** The rollout states that are work in progress on a target, and those that end one. */
const IN_FLIGHT = statesAt("in_flight");
const FINISHED = statesAt("finished");

export interface RolloutLine {
  id: number;
  changeset: string;
  state: RolloutState;
  updatedAt: Date;
}

export interface FleetTarget {
  id: string;
  label: string;
  environment: TargetConfig["environment"];
  reachable: boolean;
  serverVersion: string | null;
  error: string | null;
  /** Null until the collector has run on this target once. */
  collector: CollectorStatus | null;
  invalidIndexes: number;
  /** Each with the share of its index statements built (a running build counts its own percent). */
  inFlight: Array<RolloutLine & { percent: number }>;
  lastFinished: RolloutLine | null;
}

// The home page is where everyone lands: each target is probed at most once per PROBE_TTL_MS per app
// server, however many people look, rather than one connection per target per page view.
const PROBE_TTL_MS = 10_000;
const probes = intervalCache<TargetStatus>();

function probe(t: TargetConfig): Promise<TargetStatus> {
  return probes(`${t.id}\0${t.url ?? t.urlEnv}`, PROBE_TTL_MS, () => targetStatus(t));
}

/**
 * Is everything all right, target by target: whether it answers and on which version, how its usage
 * collection stands, INVALID indexes the last snapshot saw, rollouts under way and how far, and how
 * the last one ended. Targets are probed at once; a down one is reported as such.
 */
export async function fleetOverview(db: Pick<pg.Pool, "query">, source: TargetSource): Promise<FleetTarget[]> {
  const targets = await source();
  const ids = targets.map((t) => t.id);
  const [statuses, collection, invalid, inFlight, last] = await Promise.all([
    Promise.all(targets.map(probe)),
    collectorStatuses(db),
    db.query<{ targetId: string; n: number }>(
      `SELECT target_id AS "targetId", count(DISTINCT index_key)::int AS n
         FROM usage_last
        WHERE NOT valid AND target_id = ANY($1::text[])
        GROUP BY target_id`,
      [ids],
    ),
    db.query<RolloutLine & { targetId: string; percent: number }>(
      `WITH task_progress AS (
         SELECT
           t.rollout_id,
           CASE
             WHEN t.status IN ('done', 'skipped_exists') THEN 100
             ELSE coalesce((SELECT (e.data->>'percent')::float8
                              FROM rollout_event e
                             WHERE e.rollout_id = t.rollout_id AND e.task_seq = t.seq AND e.kind = 'progress'
                             ORDER BY e.id DESC
                             LIMIT 1), 0)
           END AS percent
         FROM rollout_task t
        WHERE t.kind <> 'set'
       )
       SELECT
         r.id,
         r.target_id                         AS "targetId",
         r.changeset_name                    AS changeset,
         r.state,
         r.updated_at                        AS "updatedAt",
         coalesce(avg(p.percent), 0)::float8 AS percent
       FROM rollout r
       LEFT JOIN task_progress p ON p.rollout_id = r.id
      WHERE r.state = ANY($1::text[]) AND r.target_id = ANY($2::text[])
      GROUP BY r.id
      ORDER BY r.id`,
      [IN_FLIGHT, ids],
    ),
    db.query<RolloutLine & { targetId: string }>(
      `SELECT DISTINCT ON (target_id)
         id,
         target_id      AS "targetId",
         changeset_name AS changeset,
         state,
         updated_at     AS "updatedAt"
       FROM rollout
      WHERE state = ANY($1::text[]) AND target_id = ANY($2::text[])
      ORDER BY target_id, updated_at DESC, id DESC`,
      [FINISHED, ids],
    ),
  ]);
  const invalidBy = new Map(invalid.rows.map((r) => [r.targetId, r.n]));
  const lastBy = new Map(last.rows.map(({ targetId, ...r }) => [targetId, r]));
  return targets.map((t, i) => {
    const s = statuses[i];
    return {
      id: t.id,
      label: t.label,
      environment: t.environment,
      reachable: s.reachable,
      serverVersion: s.reachable ? s.server.serverVersion : null,
      error: s.reachable ? null : s.error,
      collector: collection.get(t.id) ?? null,
      invalidIndexes: invalidBy.get(t.id) ?? 0,
      inFlight: inFlight.rows.filter((r) => r.targetId === t.id),
      lastFinished: lastBy.get(t.id) ?? null,
    };
  });
}

export interface AwaitingViewer {
  /** Null when the viewer's role may not approve at all (the section is not theirs). */
  approvals: Array<RolloutLine & { targetId: string; requestedBy: string }> | null;
  signoffs: Array<RolloutLine & { targetId: string }> | null;
  followups: Array<{ id: number; rolloutId: number; kind: FollowupKind; dueAt: Date; targetId: string }> | null;
}

/**
 * What waits on this person: rollouts they may approve under each target's policy (not their own
 * where the policy forbids it, not ones they already decided on), verified rollouts to sign off, and
 * follow-ups that came due. A section the role has no right to is null, not empty.
 */
export async function awaitingViewer(db: Pick<pg.Pool, "query">, source: TargetSource, actor: Actor): Promise<AwaitingViewer> {
  const targets = await source();
  const inScope = (targetId: string) => targetInScope(actor, targetId) && targets.some((t) => t.id === targetId);
  const [approvals, signoffs, followups] = await Promise.all([
    can(actor.role, "rollout:approve")
      ? db.query<RolloutLine & { targetId: string; requestedBy: string }>(
          `SELECT
             r.id,
             r.target_id      AS "targetId",
             r.changeset_name AS changeset,
             r.state,
             r.updated_at     AS "updatedAt",
             r.requested_by   AS "requestedBy"
           FROM rollout r
          WHERE r.state = 'awaiting_approval'
            AND NOT EXISTS (SELECT 1 FROM approval a WHERE a.rollout_id = r.id AND a.approver = $1)
          ORDER BY r.id`,
          [actor.email],
        )
      : null,
    can(actor.role, "rollout:signoff")
      ? db.query<RolloutLine & { targetId: string }>(
          `SELECT id, target_id AS "targetId", changeset_name AS changeset, state, updated_at AS "updatedAt"
             FROM rollout
            WHERE state = 'verified'
            ORDER BY id`,
        )
      : null,
    can(actor.role, "rollout:run") ? dueFollowups(db) : null,
  ]);
  const policy = new Map(targets.map((t) => [t.id, t.approvals]));
  return {
    approvals:
      approvals?.rows.filter((r) => {
        const p = policy.get(r.targetId);
        return inScope(r.targetId) && !!p && p.roles.includes(actor.role) && (p.requesterMayApprove || r.requestedBy !== actor.email);
      }) ?? null,
    signoffs: signoffs?.rows.filter((r) => inScope(r.targetId)) ?? null,
    followups: followups?.filter((f) => inScope(f.targetId)) ?? null,
  };
}
