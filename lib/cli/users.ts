import { parseArgs } from "node:util";
import { ZodError } from "zod";
import { changeUser, UserChangeError, type UserChange } from "../auth/manage";
import { generatePassword } from "../auth/password";
import { createServiceUser } from "../auth/tokens";
import { createUser, listUsers } from "../auth/users";
import { storePool } from "../store/pool";
import { UsageError, type Io } from "./io";

export const USERS_USAGE = `usage: indexdeck users add --email E --role R        (password from stdin, or generated and printed)
       indexdeck users add --email E --role R --service   (no password: acts only through API tokens)
       indexdeck users disable --email E | enable --email E
       indexdeck users set-role --email E --role R
       indexdeck users reset-password --email E     (password from stdin, or generated and printed)
       indexdeck users list [--json]`;

/** `indexdeck users …` against the store named by DATABASE_URL; every change is audited as "cli". */
export async function usersCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      email: { type: "string" },
      role: { type: "string" },
      json: { type: "boolean", default: false },
      service: { type: "boolean", default: false },
    },
  });
  try {
    switch (sub) {
      case "add": {
        if (!values.email || !values.role) throw new UsageError("users add needs --email and --role");
        if (values.service) {
          const bot = await createServiceUser(storePool(), { email: values.email, role: values.role as never }, null);
          io.out(`created service user ${bot.email} (${bot.role}): give it a token with indexdeck tokens create --email ${bot.email}\n`);
          return 0;
        }
        const { password, piped } = await passwordFrom(io);
        const user = await createUser(storePool(), { email: values.email, role: values.role as never, password }, null);
        io.out(`created ${user.email} (${user.role})${piped ? "" : `\npassword: ${password}`}\n`);
        return 0;
      }
      case "disable":
      case "enable":
        return await change(io, sub, values.email, { op: sub }, sub === "disable" ? `disabled ${values.email}` : `enabled ${values.email}`);
      case "set-role":
        if (!values.role) throw new UsageError("users set-role needs --email and --role");
        return await change(io, sub, values.email, { op: "set-role", role: values.role as never }, `${values.email} is now ${values.role}`);
      case "reset-password": {
        if (!values.email) throw new UsageError("users reset-password needs --email");
        const { password, piped } = await passwordFrom(io);
        return await change(
          io,
          sub,
          values.email,
          { op: "reset-password", password },
          `reset the password of ${values.email}${piped ? "" : `\npassword: ${password}`}`,
        );
      }
      case "list":
        return await list(io, values.json);
      default:
        throw new UsageError(USERS_USAGE);
    }
  } catch (err) {
    if (err instanceof ZodError) throw new UsageError(err.issues.map((i) => `--${i.path.join(".")}: ${i.message}`).join("\n"));
    throw err;
  }
}

async function passwordFrom(io: Io): Promise<{ password: string; piped: boolean }> {
  const piped = (await io.stdin()).replace(/\r?\n$/, "");
  return { password: piped || generatePassword(), piped: !!piped };
}

async function change(io: Io, sub: string, email: string | undefined, input: UserChange, done: string): Promise<number> {
  if (!email) throw new UsageError(`users ${sub} needs --email`);
  try {
    await changeUser(storePool(), email, input, null);
  } catch (err) {
    if (!(err instanceof UserChangeError)) throw err;
    io.err(`indexdeck users ${sub}: ${err.message}\n`);
    return 1;
  }
  io.out(`${done}\n`);
  return 0;
}

async function list(io: Io, json: boolean): Promise<number> {
  const users = (await listUsers(storePool())).map((u) => ({
    email: u.email,
    role: u.role,
    status: u.disabledAt ? "disabled" : "active",
    createdAt: u.createdAt.toISOString(),
    disabledAt: u.disabledAt?.toISOString() ?? null,
  }));
  if (json) {
    io.out(JSON.stringify(users) + "\n");
    return 0;
  }
  const width = Math.max(5, ...users.map((u) => u.email.length));
  for (const u of users)
    io.out(`${u.email.padEnd(width)}  ${u.role.padEnd(8)}  ${u.status.padEnd(8)}  since ${(u.disabledAt ?? u.createdAt).slice(0, 10)}\n`);
  return 0;
}
