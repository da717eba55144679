import { parseArgs } from "node:util";
import { ZodError } from "zod";
import { createToken, listTokens, revokeToken, TokenError } from "../auth/tokens";
import { storePool } from "../store/pool";
import { UsageError, type Io } from "./io";

export const TOKENS_USAGE = `usage: indexdeck tokens create --email E --name N --role R --days D [--target ID]...   (the secret is printed once)
       indexdeck tokens list [--email E] [--json]
       indexdeck tokens revoke --id N`;

/** `indexdeck tokens …` against the store named by DATABASE_URL; every change is audited as "cli". */
export async function tokensCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      email: { type: "string" },
      name: { type: "string" },
      role: { type: "string" },
      days: { type: "string" },
      target: { type: "string", multiple: true },
      id: { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  try {
    switch (sub) {
      case "create": {
        if (!values.email || !values.name || !values.role || !values.days)
          throw new UsageError("tokens create needs --email, --name, --role and --days");
        const { token, secret } = await createToken(
          storePool(),
          values.email,
          { name: values.name, role: values.role as never, days: values.days as never, targets: values.target },
          null,
        );
        io.out(
          `created token ${token.id} for ${token.owner} (${token.role}${token.targets ? ` on ${token.targets.join(", ")}` : ""}), expires ${token.expiresAt.toISOString()}\n` +
            `secret (shown once, send as "Authorization: Bearer …"): ${secret}\n`,
        );
        return 0;
      }
      case "list":
        return await list(io, values.email, values.json);
      case "revoke": {
        const id = Number(values.id);
        if (!values.id || !Number.isSafeInteger(id) || id < 1)
          throw new UsageError("tokens revoke needs --id N (a token's number, from tokens list)");
        const token = await revokeToken(storePool(), id, null);
        io.out(`revoked token ${id} (${token.name}) of ${token.owner}\n`);
        return 0;
      }
      default:
        throw new UsageError(TOKENS_USAGE);
    }
  } catch (err) {
    if (err instanceof ZodError) throw new UsageError(err.issues.map((i) => `--${i.path.join(".")}: ${i.message}`).join("\n"));
    if (err instanceof TokenError) {
      io.err(`indexdeck tokens ${sub}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

async function list(io: Io, email: string | undefined, json: boolean): Promise<number> {
  const tokens = (await listTokens(storePool(), { owner: email })).map((t) => ({
    id: t.id,
    owner: t.owner,
    name: t.name,
    role: t.role,
    targets: t.targets,
    status: t.revokedAt ? "revoked" : t.expired ? "expired" : "active",
    createdAt: t.createdAt.toISOString(),
    expiresAt: t.expiresAt.toISOString(),
    lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
  }));
  if (json) {
    io.out(JSON.stringify(tokens) + "\n");
    return 0;
  }
  for (const t of tokens) {
    io.out(
      `${String(t.id).padStart(4)}  ${t.owner}  ${t.name}  ${t.role}  ${t.status}  expires ${t.expiresAt.slice(0, 10)}  ${t.targets ? `targets ${t.targets.join(",")}` : "all targets"}  last used ${t.lastUsedAt?.slice(0, 16) ?? "never"}\n`,
    );
  }
  return 0;
}
