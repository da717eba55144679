import type { EventKind, RolloutEvent } from "../rollout/events";
import type { SessionInfo } from "../targets/activity";
import type { Rollout } from "../rollout/rollouts";
import { can, type Role } from "./policy";

type Environment = Rollout["environment"];

/** How much of a blocking session's query anyone is shown: enough to recognise it, not a whole payload. */
export const QUERY_TEXT_LIMIT = 200;

export type SeenSession = Omit<SessionInfo, "query"> & { query?: string };

function cut(query: string): string {
  return query.length > QUERY_TEXT_LIMIT ? `${query.slice(0, QUERY_TEXT_LIMIT)}…` : query;
}

/**
 * A session another rollout waits on, as `role` may see it. The query text of a production session
 * can carry personal data or passwords: only roles with sessions:query-text see it (cut); the rest
 * get who, what application, state and age — enough to find its owner.
 */
export function visibleSession(session: SeenSession, role: Role, environment: Environment): SeenSession {
  const { query, ...rest } = session;
  if (query === undefined || (environment === "production" && !can(role, "sessions:query-text"))) return rest;
  return { ...rest, query: cut(query) };
}

/** A rollout event as `role` may see it: its blockers (progress, lock_timeout…) passed through visibleSession. */
export function visibleEvent<At>(event: RolloutEvent<EventKind, At>, role: Role, environment: Environment): RolloutEvent<EventKind, At> {
  const { data } = event;
  if (!("blockers" in data)) return event;
  const blockers = data.blockers.map((b) => visibleSession(b, role, environment));
  return { ...event, data: { ...data, blockers } } as RolloutEvent<EventKind, At>;
}
