/**
 * Where a target's and its replicas' connections come from: the file's URL, or the environment
 * variable it names. Kept apart from the file's schema (config.ts), so a command that only connects
 * (a direct apply) loads no validation library.
 */
import type { ReplicaConfig, TargetConfig } from "./config";

export class TargetsConfigError extends Error {}

/** What a connection URL in the targets file or on the command line must start with. */
export const POSTGRES_URL = /^postgres(ql)?:\/\//;
export const POSTGRES_URL_MESSAGE = "must be a postgres:// or postgresql:// URL";

/** The connection URL, read from the environment when the file names a variable. */
export function targetUrl(target: TargetConfig): string {
  return connectionUrl(`target ${target.id}`, target);
}

/** A replica's connection URL, as targetUrl reads a target's. */
export function replicaUrl(target: TargetConfig, replica: ReplicaConfig): string {
  return connectionUrl(`replica ${replica.id} of target ${target.id}`, replica);
}

function connectionUrl(what: string, source: { url?: string; urlEnv?: string }): string {
  if (source.url) return source.url;
  const value = process.env[source.urlEnv!];
  if (!value) throw new TargetsConfigError(`${what}: environment variable ${source.urlEnv} is not set`);
  return value;
}
