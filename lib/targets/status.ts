import type { TargetConfig } from "./config";
import { targetUrl } from "./urls";
import { connectionSummary } from "./display";
import { serverOverview, type ServerOverview } from "./catalog";
import { withTargetClient } from "./connect";

export type TargetStatus = {
  id: string;
  label: string;
  environment: TargetConfig["environment"];
  connection: string;
  approvalsRequired: number;
} & ({ reachable: true; server: ServerOverview } | { reachable: false; error: string });

/** Probes one target; one that is down is reported as down, never thrown. */
export async function targetStatus(t: TargetConfig): Promise<TargetStatus> {
  const base = { id: t.id, label: t.label, environment: t.environment, approvalsRequired: t.approvals.required };
  let connection = t.urlEnv ? `$${t.urlEnv}` : "";
  try {
    connection = t.urlEnv ? `$${t.urlEnv} → ${connectionSummary(targetUrl(t))}` : connectionSummary(targetUrl(t));
    const server = await withTargetClient(t, serverOverview, { connectTimeoutMs: 3000, statementTimeoutMs: 5000 });
    return { ...base, connection, reachable: true, server };
  } catch (err) {
    return { ...base, connection, reachable: false, error: (err as Error).message };
  }
}
