import pg from "pg";
import type { TargetConfig } from "./config";
import { targetUrl } from "./urls";
import { withoutSecrets } from "./display";

export interface TargetSessionOptions {
  applicationName?: string;
  statementTimeoutMs?: number;
  connectTimeoutMs?: number;
}

/** A dedicated session on a target, closed afterwards; errors never carry the password. */
export async function withTargetClient<T>(
  target: TargetConfig | { id: string; url: string },
  fn: (client: pg.Client) => Promise<T>,
  options: TargetSessionOptions = {},
): Promise<T> {
  const url = "environment" in target ? targetUrl(target) : target.url;
  const client = new pg.Client({
    connectionString: url,
    application_name: options.applicationName ?? "indexdeck:read",
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    statement_timeout: options.statementTimeoutMs ?? 10_000,
  });
  client.on("error", () => undefined); // a dropped connection surfaces as a query error instead
  try {
    await client.connect();
    return await fn(client);
  } catch (err) {
    throw withoutSecrets(err, url);
  } finally {
    await client.end().catch(() => undefined);
  }
}
