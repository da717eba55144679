/**
 * demo/ — `npm run demo`: an embedded PostgreSQL, the store, the ChefCloud targets and their
 * least-privilege role, demo users, then the app.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { generatePassword } from "../auth/password";
import { createUser } from "../auth/users";
import { ROLES } from "../auth/policy";
import { migrateStore, ONE_ROLE_WARNING } from "../store/roles";
import { quoteIdent } from "../sql/quote";
import { workersFromEnv } from "../serve/workers";
import { closeStorePools, storePool } from "../store/pool";
import { sourceDigest } from "./build";
import { ensureChefcloud, ensureDatabase } from "./chefcloud";
import { startEmbedded, takeOverShutdownSignals } from "./embedded";
import { isPortFree } from "./ports";
import { writePrivateFile } from "./private-file";
import { ensureTargetRole } from "./target-role";
import { WEBHOOK_EVENTS } from "../targets/config";

const USAGE = `usage: npm run demo [-- --port 3000 --rows 2000000 --staging-rows N --prod-window "sat,sun 02:00-05:00 UTC" --data-dir .indexdeck --logins-file FILE --webhook URL --setup-only]`;

function log(line: string) {
  console.log(`[indexdeck] ${line}`);
}

// Stopped on the way out, whatever the way: a demo that failed half-way must not leave its PostgreSQL
// running on the data directory (the next start would find it locked).
let stopEmbedded = async () => undefined as void;

async function main() {
  const { values: opts } = parseArgs({
    options: {
      port: { type: "string", default: process.env.PORT ?? "3000" },
      rows: { type: "string", default: process.env.INDEXDECK_DEMO_ROWS ?? "2000000" },
      "staging-rows": { type: "string" },
      "prod-window": { type: "string", default: "sat,sun 02:00-05:00 UTC" },
      "data-dir": { type: "string", default: ".indexdeck" },
      "logins-file": { type: "string" },
      // A receiver told of every event on the demo targets, signed with a secret kept in the data directory.
      webhook: { type: "string" },
      "setup-only": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (opts.help) return console.log(USAGE);
  const port = Number(opts.port);
  const prodRows = Number(opts.rows);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--port must be 1-65535, got ${opts.port}`);
  if (!Number.isInteger(prodRows) || prodRows < 1000) throw new UsageError(`--rows must be an integer ≥ 1000, got ${opts.rows}`);
  const stagingRows = opts["staging-rows"] === undefined ? Math.max(1000, Math.round(prodRows / 10)) : Number(opts["staging-rows"]);
  if (!Number.isInteger(stagingRows) || stagingRows < 1000)
    throw new UsageError(`--staging-rows must be an integer ≥ 1000, got ${opts["staging-rows"]}`);
  // Checked here too, before minutes of setup, though bin/serve.mjs is what reads it.
  let workers: number;
  try {
    workers = workersFromEnv();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const dataDir = path.resolve(opts["data-dir"]!);
  await mkdir(dataDir, { recursive: true });

  if (!opts["setup-only"] && !(await isPortFree(port, "0.0.0.0"))) {
    throw new UsageError(`port ${port} is already in use: stop what holds it or run npm run demo -- --port ${port + 1}`);
  }

  let storeUrl = process.env.DATABASE_URL;
  if (storeUrl && opts.webhook)
    throw new UsageError(
      "--webhook adds to the embedded demo's targets file; with DATABASE_URL set, declare webhooks in your own targets file",
    );
  let ownerUrl = process.env.DATABASE_OWNER_URL || undefined;
  let targetsFile = process.env.INDEXDECK_TARGETS ?? path.resolve("indexdeck.targets.json");
  if (!storeUrl) {
    const started = Date.now();
    const server = await startEmbedded(path.join(dataDir), log);
    stopEmbedded = server.stop;
    log(`embedded PostgreSQL on 127.0.0.1:${server.port} (data in ${path.join(dataDir, "pgdata")}, ${Date.now() - started} ms)`);
    await ensureDatabase(server.url("postgres"), "indexdeck");
    ({ ownerUrl, runtimeUrl: storeUrl } = await ensureStoreRoles(server.url, dataDir));
    await ensureChefcloud(server.url("postgres"), server.url, "chefcloud_staging", stagingRows, log);
    await ensureChefcloud(server.url("postgres"), server.url, "chefcloud_prod", prodRows, log);
    // The targets connect as a non-superuser deploy role (lib/demo/target-role.ts); the file holds its password.
    const targetRole = await ensureTargetRole(server.url("postgres"), server.url, ["chefcloud_staging", "chefcloud_prod"]);
    targetsFile = path.join(dataDir, "targets.json");
    await writePrivateFile(
      targetsFile,
      JSON.stringify({ ...demoTargets(targetRole.url, parseWindow(opts["prod-window"]!)), webhooks: demoWebhooks(opts.webhook) }, null, 2),
    );
  }

  // Every audit row is signed with this key, kept outside the store; checkpoints go beside it.
  process.env.INDEXDECK_AUDIT_KEY ??= await persistentSecret(dataDir, "audit-key");
  const { applied, separated } = await migrateStore({ runtime: storeUrl, owner: ownerUrl });
  if (applied.length) log(`store migrated: ${applied.join(", ")}`);
  if (!separated) log(ONE_ROLE_WARNING);
  await seedUsers(storeUrl, opts["logins-file"]);
  await closeStorePools();

  const secret = await persistentSecret(dataDir, "nextauth-secret");
  const env = {
    ...process.env,
    DATABASE_URL: storeUrl,
    ...(ownerUrl ? { DATABASE_OWNER_URL: ownerUrl } : {}),
    INDEXDECK_AUDIT_KEY: process.env.INDEXDECK_AUDIT_KEY,
    INDEXDECK_AUDIT_ANCHOR: process.env.INDEXDECK_AUDIT_ANCHOR ?? path.join(dataDir, "audit.anchor"),
    INDEXDECK_TARGETS: targetsFile,
    [DEMO_WEBHOOK_SECRET_ENV]: process.env[DEMO_WEBHOOK_SECRET_ENV] ?? (await persistentSecret(dataDir, "webhook-secret")),
    NEXTAUTH_SECRET: process.env.NEXTAUTH_SECRET ?? secret,
    NEXTAUTH_URL: process.env.NEXTAUTH_URL ?? `http://localhost:${port}`,
    NEXT_TELEMETRY_DISABLED: "1",
    PORT: String(port),
    // The demo collects usage every 10 s so its charts fill while you watch (default 60 s).
    INDEXDECK_COLLECT_INTERVAL_MS: process.env.INDEXDECK_COLLECT_INTERVAL_MS ?? "10000",
  };
  if (opts["setup-only"]) {
    await stopEmbedded();
    return;
  }
  await buildIfChanged(env);
  const next = spawn(process.execPath, ["bin/serve.mjs", "-p", String(port)], { env, stdio: ["ignore", "pipe", "inherit"] });
  let serving = false;
  next.stdout.on("data", (chunk: Buffer) => {
    process.stdout.write(chunk);
    // Each worker says Ready; the first one serves.
    if (!serving && chunk.toString().includes("Ready")) {
      serving = true;
      log(`indexdeck is serving on http://localhost:${port} (${workers} worker${workers > 1 ? "s" : ""}; INDEXDECK_WORKERS to change)`);
    }
  });
  let exited = false;
  const shutdown = async (code: number) => {
    // The app first, so it never sees its database vanish under it; then PostgreSQL.
    if (!exited) {
      next.kill("SIGTERM");
      await new Promise((resolve) => {
        next.once("exit", resolve);
        setTimeout(resolve, 5000);
      });
    }
    await stopEmbedded().catch(() => undefined);
    process.exit(code);
  };
  takeOverShutdownSignals();
  process.on("SIGINT", () => void shutdown(0));
  process.on("SIGTERM", () => void shutdown(0));
  next.on("exit", (code) => {
    exited = true;
    void shutdown(code ?? 1);
  });
}

/** "sat,sun 02:00-05:00 UTC" → a maintenance window of the targets file. */
function parseWindow(text: string) {
  const m = /^([a-z,]+) (\d\d:\d\d)-(\d\d:\d\d) (\S+)$/.exec(text.trim());
  if (!m) throw new UsageError(`--prod-window must look like "sat,sun 02:00-05:00 UTC", got ${text}`);
  return { days: m[1].split(","), start: m[2], end: m[3], timeZone: m[4] };
}

function demoTargets(url: (db: string) => string, prodWindow: ReturnType<typeof parseWindow>) {
  return {
    targets: [
      {
        id: "chefcloud_staging",
        label: "ChefCloud staging",
        environment: "staging",
        url: url("chefcloud_staging"),
        approvals: { required: 1, roles: ["dba", "sre", "admin"], requesterMayApprove: false },
        maintenanceWindows: [{ days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], start: "00:00", end: "00:00", timeZone: "UTC" }],
        probes: { enabled: true },
      },
      {
        id: "chefcloud_prod",
        label: "ChefCloud production",
        environment: "production",
        url: url("chefcloud_prod"),
        stagingTarget: "chefcloud_staging",
        approvals: { required: 2, roles: ["dba", "sre", "admin"], requesterMayApprove: false },
        maintenanceWindows: [prodWindow],
        probes: { enabled: true },
      },
    ],
  };
}

const DEMO_WEBHOOK_SECRET_ENV = "INDEXDECK_DEMO_WEBHOOK_SECRET";

function demoWebhooks(url: string | undefined) {
  if (!url) return [];
  return [{ id: "demo", url, format: "json", events: [...WEBHOOK_EVENTS], secretEnv: DEMO_WEBHOOK_SECRET_ENV }];
}

/** Seeds one user per role with random passwords, printed once, only into an empty store. */
async function seedUsers(storeUrl: string, loginsFile: string | undefined) {
  const pool = storePool(storeUrl);
  const {
    rows: [{ n }],
  } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM app_user");
  if (n > 0) {
    log(
      "demo users exist already; their passwords were printed on the first run (add users with: npx indexdeck users add --email E --role R)",
    );
    return;
  }
  const logins: Record<string, string> = {};
  for (const role of ROLES) {
    const password = generatePassword();
    await createUser(pool, { email: role, role, password }, null);
    logins[role] = password;
  }
  log("demo logins (shown once; store them now):");
  for (const [user, password] of Object.entries(logins)) console.log(`    ${user.padEnd(9)} ${password}`);
  if (loginsFile) {
    await writeFile(loginsFile, JSON.stringify(logins, null, 2), { mode: 0o600 });
    await chmod(loginsFile, 0o600);
  }
}

async function persistentSecret(dataDir: string, name: string): Promise<string> {
  const file = path.join(dataDir, name);
  if (existsSync(file)) return (await readFile(file, "utf8")).trim();
  const secret = randomBytes(32).toString("base64url");
  await writeFile(file, secret, { mode: 0o600 });
  return secret;
}

const STORE_OWNER = "indexdeck_owner";
const STORE_APP = "indexdeck_app";

/**
 * The store's two roles in the embedded server (README, "Pointing it at real databases"): the owner
 * migrates and owns the tables, the app connects as a role that can only append to the audit log.
 * Passwords are made once and kept in the data directory. A store made before the roles existed is
 * owned by the superuser, which then stays its owner (migrations only); the app still gets its own role.
 */
async function ensureStoreRoles(url: (db: string) => string, dataDir: string): Promise<{ ownerUrl: string; runtimeUrl: string }> {
  const admin = new pg.Client({ connectionString: url("postgres") });
  await admin.connect();
  try {
    const passwords: Record<string, string> = {};
    for (const role of [STORE_OWNER, STORE_APP]) {
      passwords[role] = await persistentSecret(dataDir, `${role}-password`);
      const { rowCount } = await admin.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role]);
      // The password travels as a bind value into format(); DDL itself takes no parameters.
      const {
        rows: [{ ddl }],
      } = await admin.query<{ ddl: string }>(
        `SELECT format('${rowCount ? "ALTER" : "CREATE"} ROLE %I LOGIN PASSWORD %L', $1::text, $2::text) AS ddl`,
        [role, passwords[role]],
      );
      await admin.query(ddl);
    }
    const storeAdmin = new pg.Client({ connectionString: url("indexdeck") });
    await storeAdmin.connect();
    const {
      rows: [store],
    } = await storeAdmin
      .query<{ tables: number }>(
        "SELECT count(*)::int AS tables FROM pg_catalog.pg_tables WHERE schemaname = 'public' AND tableowner <> $1",
        [STORE_OWNER],
      )
      .finally(() => storeAdmin.end());
    const withRole = (role: string) => Object.assign(new URL(url("indexdeck")), { username: role, password: passwords[role] }).toString();
    const runtimeUrl = withRole(STORE_APP);
    if (store.tables > 0) return { ownerUrl: url("indexdeck"), runtimeUrl };
    await admin.query(`ALTER DATABASE indexdeck OWNER TO ${quoteIdent(STORE_OWNER)}`);
    return { ownerUrl: withRole(STORE_OWNER), runtimeUrl };
  } finally {
    await admin.end();
  }
}

/** Builds unless .next/ was built from exactly these sources (the digest lives beside the build). */
async function buildIfChanged(env: NodeJS.ProcessEnv) {
  const digestFile = path.join(".next", "indexdeck-source-digest");
  const digest = sourceDigest();
  const previous = existsSync(digestFile) ? (await readFile(digestFile, "utf8")).trim() : "";
  if (previous === digest && existsSync(".next/BUILD_ID")) return;
  log("building the web app (first run or changed sources; about a minute)…");
  await new Promise<void>((resolve, reject) => {
    const build = spawn(process.execPath, ["node_modules/next/dist/bin/next", "build"], { env, stdio: "inherit" });
    build.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`next build failed with exit code ${code}`))));
  });
  await writeFile(digestFile, digest);
}

class UsageError extends Error {}

main().catch(async (err) => {
  console.error(`[indexdeck] ${err instanceof UsageError ? "" : "demo failed: "}${err instanceof Error ? err.message : String(err)}`);
  await stopEmbedded().catch(() => undefined);
  process.exit(err instanceof UsageError ? 2 : 1);
});
