/**
 * The one way targets reach the rest of lib: a `TargetSource`, asked each time the list is needed.
 * A request asks once; the job runner and the collector ask on every job and tick, so an edit of the
 * targets file or a policy put in force governs the next one without a restart. Code that acts on one
 * target already chosen takes that `TargetConfig` itself.
 */
import type pg from "pg";
import { loadTargets, type TargetConfig } from "./config";
import { withPolicies } from "./policies";

export type TargetSource = () => Promise<TargetConfig[]>;

/** The targets as the file declares them now: for what reads no policy (usage pages, token scopes, the policy forms' own base, the collector, the CLI's --target). */
export function fileTargets(file?: string): TargetSource {
  return async () => loadTargets(file);
}

/** The targets as they govern rollouts now: the file's, with each target's policy in force from the store. */
export function governingTargets(store: Pick<pg.Pool, "query">, file?: string): TargetSource {
  return withPolicies(store, fileTargets(file));
}

/** A list chosen by the caller: the CLI's one --database-url target, tests' own servers, a bench's fleet. */
export function fixedTargets(targets: TargetConfig[]): TargetSource {
  return async () => targets;
}
