import { InputError } from "../changeset/files";
import { UsageError, processIo, type Io } from "./io";

const USAGE = `indexdeck — roll out PostgreSQL indexes safely

  indexdeck lint PATH... [--format text|json|github] [--database-url URL]
  indexdeck migrate                      apply sql/app/ as DATABASE_OWNER_URL, grant DATABASE_URL's role its rights
  indexdeck users add --email E --role R create a user (password from stdin or generated)
  indexdeck users disable|enable --email E, set-role --email E --role R, reset-password --email E
  indexdeck users list [--json]          every user, its role and whether it is disabled
  indexdeck users add --email E --role R --service   a service user: no password, acts only through API tokens
  indexdeck tokens create --email E --name N --role R --days D [--target ID]...   an API token (secret printed once)
  indexdeck tokens list [--email E] [--json], tokens revoke --id N
  indexdeck audit verify [--json] [--anchor FILE]   recompute the audit chain (signatures with INDEXDECK_AUDIT_KEY)
  indexdeck audit checkpoint --anchor FILE          verify, then append a signed checkpoint of the head to FILE
  indexdeck worker                       run rollout jobs without the web app

  indexdeck precheck|apply|verify|rollback --changeset FILE --database-url URL [--json]
  indexdeck precheck|apply|verify|rollback|cancel --rollout ID --as LOGIN [--json]
  indexdeck report (--target ID | --database-url URL) [--json]   unused, duplicate, invalid indexes
  indexdeck report rollout ID [--format md]                       a rollout's completion report
`;

type Run = (argv: string[], io: Io) => Promise<number>;

/**
 * Each command, loaded on use so that none pays for the parser, pg or the store unless it needs them;
 * `store`: it may open the store's pool, which is closed when it ends.
 */
const phase = (name: Parameters<typeof import("./phases").phaseCommand>[0]): { run: Run; store: boolean } => ({
  run: async (argv, io) => (await import("./phases")).phaseCommand(name, argv, io),
  store: true,
});
const COMMANDS: Record<string, { run: Run; store: boolean }> = {
  lint: { run: async (argv, io) => (await import("./lint")).lintCommand(argv, io), store: false },
  migrate: { run: async (argv, io) => (await import("./store-commands")).migrateCommand(argv, io), store: true },
  users: { run: async (argv, io) => (await import("./users")).usersCommand(argv, io), store: true },
  tokens: { run: async (argv, io) => (await import("./tokens")).tokensCommand(argv, io), store: true },
  audit: { run: async (argv, io) => (await import("./store-commands")).auditCommand(argv, io), store: true },
  worker: { run: async (argv, io) => (await import("./worker")).workerCommand(argv, io), store: true },
  precheck: phase("precheck"),
  apply: phase("apply"),
  verify: phase("verify"),
  rollback: phase("rollback"),
  cancel: phase("cancel"),
  report: { run: async (argv, io) => (await import("./report")).reportCommand(argv, io), store: true },
};

/** Runs one CLI command and returns its exit status: 0 ok, 1 findings or failure, 2 bad usage or input. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [name, ...rest] = argv;
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    io.err(name && name !== "--help" ? `unknown command: ${name}\n\n${USAGE}` : USAGE);
    return name === "--help" ? 0 : 2;
  }
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
    if (command.store) await (await import("../store/pool")).closeStorePools();
  }
}
