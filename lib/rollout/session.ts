import type { Socket } from "node:net";
import pg from "pg";
import { quoteIdent } from "../sql/quote";
import { withoutSecrets } from "../targets/display";

/**
 * The settings that decide how the server splits and reads SQL text, pinned to what libpg-query
 * assumes when it parses a change set: with them, the server reads each statement exactly as the
 * linter, the plan and the approvers did. A change set can't change them (the statement policy
 * refuses SET and RESET of each).
 */
export const LEXING_SETTINGS = {
  standard_conforming_strings: "on",
  backslash_quote: "safe_encoding",
  client_encoding: "UTF8",
} as const;

/**
 * The apply session's own defaults, in force until the change set sets its own: a lock wait is always
 * bounded, and builds are not cancelled midway by a server- or role-level statement_timeout (a
 * cancelled concurrent build leaves an INVALID index).
 */
export const SESSION_DEFAULTS = {
  lock_timeout: "2s",
  statement_timeout: "0",
} as const;

const PINNED: Record<string, string> = { ...LEXING_SETTINGS, ...SESSION_DEFAULTS };

/** What the session runs under, read back from the server after pinning: the evidence pre-check and the report show. */
export interface SessionEvidence {
  searchPath: string;
  /** The schemas the path resolves to, pg_catalog first (`current_schemas(true)`). */
  schemas: string[];
  user: string;
  superuser: boolean;
  settings: Record<string, string>;
}

export class SessionPinError extends Error {}

/**
 * The search_path builds run under: pg_catalog first, then the target's configured schemas, or else
 * the path the role would have had. Index expressions, partial-index predicates and operator
 * classes call functions by name; this keeps the resolution fixed and known (PostgreSQL 17 does
 * the like for maintenance commands; older majors use the session's path).
 */
export function buildSearchPath(configured: readonly string[] | undefined, roleDefault: string): string {
  const rest = configured?.length ? configured.map(quoteIdent).join(", ") : roleDefault;
  return rest.trim() ? `pg_catalog, ${rest}` : "pg_catalog";
}

/**
 * Pins lexing, timeouts, search_path and the target's pacing settings (lib/rollout/pacing.ts) on a fresh
 * session and reads them back; refuses a session where a lexing pin did not take.
 */
export async function pinSession(
  client: pg.ClientBase,
  searchPath?: readonly string[],
  paced: Readonly<Record<string, string>> = {},
): Promise<SessionEvidence> {
  const {
    rows: [role],
  } = await client.query<{ path: string }>("SELECT current_setting('search_path') AS path");
  const path = buildSearchPath(searchPath, role.path);
  const pinned = { ...PINNED, ...paced };
  const names = Object.keys(pinned);
  await client.query(`SELECT set_config(name, value, false) FROM unnest($1::text[], $2::text[]) AS s(name, value)`, [
    [...names, "search_path"],
    [...names.map((n) => pinned[n]), path],
  ]);
  const {
    rows: [now],
  } = await client.query<{ settings: Record<string, string>; schemas: string[]; user: string; superuser: boolean; path: string }>(
    `SELECT json_object_agg(name, current_setting(name)) AS settings,
            current_schemas(true)::text[]               AS schemas,
            current_user                                AS "user",
            (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
            current_setting('search_path')              AS path
       FROM unnest($1::text[]) AS name`,
    [[...Object.keys(LEXING_SETTINGS), ...Object.keys(paced)]],
  );
  for (const [name, want] of Object.entries(LEXING_SETTINGS)) {
    if (now.settings[name]?.toLowerCase() !== want.toLowerCase()) {
      throw new SessionPinError(
        `the target session kept ${name} = ${now.settings[name]} (indexdeck needs ${want}): statements would be read differently than they were linted`,
      );
    }
  }
  return { searchPath: now.path, schemas: now.schemas, user: now.user, superuser: now.superuser, settings: now.settings };
}

/** A target that accepts a connection and never answers would otherwise hold an apply (and its job) forever. */
export const CONNECT_TIMEOUT_MS = 10_000;

export interface ApplySessionOptions {
  url: string;
  applicationName: string;
  searchPath?: readonly string[];
  /** How long the session may take to connect; CONNECT_TIMEOUT_MS when not given. */
  connectTimeoutMs?: number;
  /** The target's pacing settings (lib/rollout/pacing.ts pacedSettings): pinned like the rest, so a RESET returns to them. */
  pacedSettings?: Readonly<Record<string, string>>;
}

/**
 * A session for running change-set statements: the pins go in the startup packet too, so a RESET
 * returns to indexdeck's values rather than the server's, and they outrank role and database
 * defaults such as `ALTER DATABASE … SET standard_conforming_strings = off`.
 */
export async function openApplySession(
  opts: ApplySessionOptions,
  signal?: AbortSignal,
): Promise<{ client: pg.Client; evidence: SessionEvidence }> {
  const client = new pg.Client({
    connectionString: opts.url,
    application_name: opts.applicationName,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    options: Object.entries({ ...PINNED, ...opts.pacedSettings })
      .map(([k, v]) => `-c ${k}=${v}`)
      .join(" "),
  });
  client.on("error", () => undefined); // a dropped connection surfaces as a query error instead
  await connectUnlessAborted(client, signal).catch((err) => {
    throw withoutSecrets(err, opts.url);
  });
  // An abort while pinning ends the session too: its queries fail and the catch below closes it.
  const abort = () => void client.end().catch(() => undefined);
  signal?.addEventListener("abort", abort, { once: true });
  try {
    return { client, evidence: await pinSession(client, opts.searchPath, opts.pacedSettings) };
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  } finally {
    signal?.removeEventListener("abort", abort);
  }
}

class SessionAbandoned extends Error {}

/** pg keeps a client's socket to itself. */
const socketOf = (client: pg.Client) => (client as unknown as { connection: { stream: Socket } }).connection.stream;

/**
 * Ends a session as psql does: Terminate is sent and the socket half-closed, and the server's close is
 * not waited for, nor does it keep the process alive (a CLI that is done exits meanwhile). What the
 * session held ends with its backend; a caller that needs something released at once releases it first.
 */
export function hangUp(client: pg.Client): void {
  client.end().catch(() => undefined);
  socketOf(client).unref();
}

/**
 * `client.connect()`, given up when `signal` aborts: the socket is destroyed and this rejects at once.
 * So no one waits out a connect to a host that does not answer for a session no longer wanted.
 */
export function connectUnlessAborted(client: pg.Client, signal?: AbortSignal): Promise<void> {
  if (!signal) return client.connect().then(() => undefined);
  return new Promise((resolve, reject) => {
    const abort = () => {
      // As pg's own connect timeout does: its end() would send Terminate and half-close, which a
      // server that never answered never completes, and it never settles a connect ended midway.
      socketOf(client).destroy();
      reject(new SessionAbandoned("the session was no longer wanted before it connected"));
    };
    if (signal.aborted) return abort();
    signal.addEventListener("abort", abort, { once: true });
    client
      .connect()
      .then(() => resolve(), reject)
      .finally(() => signal.removeEventListener("abort", abort));
  });
}

/**
 * Runs one change-set statement through the extended query protocol, where the server parses the
 * text as a single prepared statement and refuses a string holding two ("cannot insert multiple
 * commands into a prepared statement"): whatever the text, at most one statement executes.
 */
export function runStatement(client: pg.ClientBase, text: string): Promise<pg.QueryResult> {
  return client.query({ text, queryMode: "extended" } as pg.QueryConfig);
}

/** Runs `fn` on a pinned session (see openApplySession), closed afterwards. */
export async function withApplySession<T>(
  opts: ApplySessionOptions,
  fn: (client: pg.Client, evidence: SessionEvidence) => Promise<T>,
): Promise<T> {
  const { client, evidence } = await openApplySession(opts);
  try {
    return await fn(client, evidence);
  } finally {
    await client.end().catch(() => undefined);
  }
}
