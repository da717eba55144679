import { parseArgs } from "node:util";
import { ZodError } from "zod";
import { verifyAudit } from "../audit/verify";
import { generatePassword } from "../auth/password";
import { createUser } from "../auth/users";
import { migrate } from "../store/migrator";
import { storePool } from "../store/pool";
import { UsageError, type Io } from "./io";

export async function migrateCommand(_argv: string[], io: Io): Promise<number> {
  const client = await storePool().connect();
  try {
    const { applied } = await migrate(client);
    io.out(applied.length ? `applied: ${applied.join(", ")}\n` : "store is up to date\n");
    return 0;
  } finally {
    client.release();
  }
}

export async function usersCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== "add") throw new UsageError("usage: indexdeck users add --email E --role R   (password from stdin, or generated and printed)");
  const { values } = parseArgs({ args: rest, options: { email: { type: "string" }, role: { type: "string" } } });
  if (!values.email || !values.role) throw new UsageError("users add needs --email and --role");
  const piped = (await io.stdin()).replace(/\r?\n$/, "");
  const password = piped || generatePassword();
  try {
    const user = await createUser(storePool(), { email: values.email, role: values.role as never, password }, null);
    io.out(`created ${user.email} (${user.role})${piped ? "" : `\npassword: ${password}`}\n`);
    return 0;
  } catch (err) {
    if (err instanceof ZodError) throw new UsageError(err.issues.map((i) => `--${i.path.join(".")}: ${i.message}`).join("\n"));
    throw err;
  }
}

export async function auditCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== "verify") throw new UsageError("usage: indexdeck audit verify [--json]");
  const { values } = parseArgs({ args: rest, options: { json: { type: "boolean", default: false } } });
  const result = await verifyAudit(storePool());
  if (values.json) io.out(JSON.stringify({ ok: result.ok, rows: result.rows, firstBadId: result.firstBadId }) + "\n");
  else io.out(result.ok ? `audit chain intact: ${result.rows} rows, head ${result.headHash ?? "(empty)"}\n` : `audit chain BROKEN at row ${result.firstBadId}: ${result.reason}\n`);
  return result.ok ? 0 : 1;
}
