/**
 * cli/ — the `indexdeck` command: one thin face of lib/, as the web app is the other; a file per
 * command (lint, report, users, tokens, the phase commands, the store commands, worker).
 */
import { parseArgs } from "node:util";
import { InputError } from "../changeset/files";
import { UsageError, processIo, type Io } from "./io";
import { prepareParser, sqlBytes } from "./parser-tier";

export { parserTierFlags } from "./parser-tier";

type Run = (argv: string[], io: Io) => Promise<number>;

interface Command {
  run: Run;
  /** Whether it may open the store's pool, which is closed when it ends (a direct phase never does). */
  store: boolean | ((argv: string[]) => boolean);
  /** What `indexdeck NAME --help` prints, and this command's lines of the whole usage. */
  usage: string[];
  /** The SQL files it parses, for a command that parses SQL and ends: the parser starts loading at once, in the tier their size picks. */
  sqlFiles?: (argv: string[]) => Array<string | undefined>;
}

const PHASE_LINES = [
  "indexdeck precheck|apply|verify|rollback --changeset FILE --database-url URL [--json] [--backup-id ID] [--disk-free TEXT] [--reason TEXT] [--connect-timeout SECONDS]",
  "indexdeck precheck|apply|verify|rollback|cancel --rollout ID --as LOGIN [--json] [--backup-id ID] [--reason TEXT]",
];

// Loaded on use, so that no command pays for the parser, pg or the store unless it needs them.
const phase = (name: Parameters<typeof import("./phase-commands").phaseCommand>[0]): Command => ({
  run: async (argv, io) => (await import("./phase-commands")).phaseCommand(name, argv, io),
  store: (argv) => parseArgs({ args: argv, strict: false, allowPositionals: true }).values.rollout !== undefined,
  sqlFiles: (argv) => (argv.includes("--changeset") ? [argv[argv.indexOf("--changeset") + 1]] : []),
  usage: PHASE_LINES,
});

const COMMANDS: Record<string, Command> = {
  lint: {
    run: async (argv, io) => (await import("./lint")).lintCommand(argv, io),
    store: false,
    sqlFiles: (argv) => argv,
    usage: ["indexdeck lint PATH... [--format text|json|github] [--database-url URL] [--rules]   lint change sets (files or directories)"],
  },
  migrate: {
    run: async (argv, io) => (await import("./store-commands")).migrateCommand(argv, io),
    store: true,
    usage: ["indexdeck migrate   apply sql/app/ as DATABASE_OWNER_URL, grant DATABASE_URL's role its rights"],
  },
  users: {
    run: async (argv, io) => (await import("./users")).usersCommand(argv, io),
    store: true,
    usage: [
      "indexdeck users add --email E --role R [--service]   create a user (password from stdin or generated; a service user has none)",
      "indexdeck users disable|enable|reset-password --email E, users set-role --email E --role R",
      "indexdeck users list [--json]   every user, its role and whether it is disabled",
    ],
  },
  tokens: {
    run: async (argv, io) => (await import("./tokens")).tokensCommand(argv, io),
    store: true,
    usage: [
      "indexdeck tokens create --email E --name N --role R --days D [--target ID]...   an API token (secret printed once)",
      "indexdeck tokens list [--email E] [--json], tokens revoke --id N",
    ],
  },
  audit: {
    run: async (argv, io) => (await import("./store-commands")).auditCommand(argv, io),
    store: true,
    usage: [
      "indexdeck audit verify [--json] [--file EXPORT.json] [--anchor FILE]   recompute the audit chain (signatures with INDEXDECK_AUDIT_KEY)",
      "indexdeck audit checkpoint --anchor FILE   verify, then append a signed checkpoint of the head to FILE",
    ],
  },
  worker: {
    run: async (argv, io) => (await import("./worker")).workerCommand(argv, io),
    store: true,
    usage: ["indexdeck worker   run rollout jobs without the web app"],
  },
  precheck: phase("precheck"),
  apply: phase("apply"),
  verify: phase("verify"),
  rollback: phase("rollback"),
  cancel: phase("cancel"),
  report: {
    run: async (argv, io) => (await import("./report")).reportCommand(argv, io),
    store: true,
    usage: [
      "indexdeck report (--target ID | --database-url URL [--replica-url URL]...) [--json] [--window-days N]   unused (no scans on any node for N days, 14 by default), duplicate, invalid indexes",
      "indexdeck report rollout ID [--format md]   a rollout's completion report",
    ],
  },
};

/** One place for what every command's exit status means. */
const EXIT_CODES = "exit codes: 0 clean or done, 1 findings or a failed phase, 2 unusable input (bad usage, unreadable or invalid files)";

const USAGE = `indexdeck — roll out PostgreSQL indexes safely

${[...new Set(Object.values(COMMANDS).flatMap((c) => c.usage))].map((l) => `  ${l}`).join("\n")}

${EXIT_CODES}
`;

/** Runs one CLI command and returns its exit status: 0 ok, 1 findings or failure, 2 bad usage or input. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [name, ...rest] = argv;
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    if (name === "--help" || name === "-h") {
      io.out(USAGE);
      return 0;
    }
    io.err(name ? `unknown command: ${name}\n\n${USAGE}` : USAGE);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.out(`${command.usage.map((l) => `  ${l}`).join("\n")}\n\n${EXIT_CODES}\n`);
    return 0;
  }
  const sqlFiles = command.sqlFiles?.(rest) ?? [];
  if (sqlFiles.length) await prepareParser(sqlBytes(sqlFiles));
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError || err instanceof InputError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      io.err(`indexdeck ${name}: ${(err as Error).message}\n`);
      return 2;
    }
    io.err(`indexdeck ${name} failed: ${(err as Error).message}\n`);
    return 1;
  } finally {
    const opened = typeof command.store === "function" ? command.store(rest) : command.store;
    if (opened) await (await import("../store/pool")).closeStorePools();
  }
}

/**
 * The process's whole run, for the bins: the command, then the process ends once its output is out.
 * Sessions are hung up, not waited out (lib/rollout/session.ts hangUp); nothing keeps an apply's
 * process up until the target's backends have ended, as nothing keeps psql's.
 */
export async function runAndExit(argv: string[]): Promise<never> {
  process.exitCode = await main(argv);
  // Writes to a pipe are asynchronous on some systems (macOS): an empty write's callback comes after those before it.
  await Promise.all([process.stdout, process.stderr].map((s) => new Promise((done) => s.write("", done))));
  process.exit();
}
