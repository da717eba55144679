import type pg from "pg";
import { PRIMARY_NODE, type TargetConfig } from "./config";
import { replicaUrl, targetUrl } from "./urls";
import { withTargetClient, type TargetSessionOptions } from "./connect";
import { connectionSummary } from "./display";
import { nodeClock, type NodeClock } from "./inventory";

/** A server whose usage counters are evidence about a target's indexes: its primary or one of its replicas. */
export interface TargetNode {
  id: string;
  role: "primary" | "replica";
  label: string;
  url: string;
}

/** A target named by URLs on the command line rather than in the targets file. */
export interface AdHocTarget {
  id: string;
  url: string;
  replicaUrls?: string[];
}

/** The target's primary first, then its replicas in the file's (or the command line's) order. */
export function targetNodes(target: TargetConfig | AdHocTarget): TargetNode[] {
  if (!("environment" in target)) {
    return [
      { id: PRIMARY_NODE, role: "primary", label: PRIMARY_NODE, url: target.url },
      ...(target.replicaUrls ?? []).map((url, i) => ({
        id: `replica-${i + 1}`,
        role: "replica" as const,
        label: connectionSummary(url),
        url,
      })),
    ];
  }
  return [
    { id: PRIMARY_NODE, role: "primary", label: PRIMARY_NODE, url: targetUrl(target) },
    ...target.replicas.map((r) => ({ id: r.id, role: "replica" as const, label: r.label ?? r.id, url: replicaUrl(target, r) })),
  ];
}

/** Why a node's counters are not evidence: it could not be read, or its URL reaches the wrong server. */
export type NodeProblemCode = "unreachable" | "not-a-replica" | "other-cluster";

export interface NodeProblem {
  code: NodeProblemCode;
  message: string;
}

/** A replica URL that reaches the wrong server is a mistake in the input, not a passing outage. */
export const REFUSED: ReadonlySet<NodeProblemCode> = new Set(["not-a-replica", "other-cluster"]);

/**
 * A replica's counters count only if the URL reaches a replica of this very primary: a primary's scans
 * (this one again, or another) or another cluster's would vouch for indexes they never saw the reads of.
 */
export function replicaProblem(primary: NodeClock, replica: NodeClock): NodeProblem | null {
  if (!replica.inRecovery)
    return { code: "not-a-replica", message: "refused: it is a primary, not a replica (pg_is_in_recovery() is false)" };
  if (replica.systemIdentifier !== primary.systemIdentifier)
    return {
      code: "other-cluster",
      message: `refused: it belongs to another cluster (system identifier ${replica.systemIdentifier}; the primary's is ${primary.systemIdentifier})`,
    };
  return null;
}

export type NodeRead<T> =
  | { node: TargetNode; clock: NodeClock; data: T; problem: null }
  | { node: TargetNode; clock: NodeClock | null; data: null; problem: NodeProblem };

/**
 * Reads every node of a target in one session each, at once: `read` runs after the node's clock is read.
 * The primary must answer (its error is thrown, as for a target without replicas); a replica that does
 * not, or is not a replica of that primary, comes back with the problem instead of data.
 */
export async function readNodes<T>(
  target: TargetConfig | AdHocTarget,
  read: (db: pg.Client) => Promise<T>,
  options: TargetSessionOptions,
): Promise<Array<NodeRead<T>>> {
  const nodes = targetNodes(target);
  const readOne = (node: TargetNode) =>
    withTargetClient(
      { id: target.id, url: node.url },
      async (db) => ({ clock: await nodeClock(db, nodes.length > 1), data: await read(db) }),
      options,
    );
  const [primary, ...replicas] = await Promise.all([
    readOne(nodes[0]),
    ...nodes.slice(1).map((node) => readOne(node).catch((err: Error) => ({ clock: null, data: null, error: err.message }))),
  ]);
  return [
    { node: nodes[0], ...primary, problem: null },
    ...replicas.map((r, i): NodeRead<T> => {
      const node = nodes[i + 1];
      if ("error" in r) return { node, clock: null, data: null, problem: { code: "unreachable", message: `unreachable: ${r.error}` } };
      const problem = replicaProblem(primary.clock, r.clock);
      return problem ? { node, clock: r.clock, data: null, problem } : { node, ...r, problem: null };
    }),
  ];
}
