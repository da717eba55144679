import { parseArgs } from "node:util";
import { readChangeSets } from "../changeset/files";
import { reportPieces, type LintFormat } from "../changeset/format";
import { lintText, summarize } from "../changeset/lint";
import { RULES } from "../changeset/rules";
import { loadSchemaInfo } from "../changeset/schema";
import { withTargetClient } from "../targets/connect";
import { UsageError, type Io } from "./io";

export const LINT_USAGE = `usage: indexdeck lint PATH... [--format text|json|github] [--database-url URL]
       indexdeck lint --rules
Exit status: 0 no errors, 1 errors found, 2 bad usage or unreadable input.`;

const OUTPUT_BATCH_CHARS = 64 * 1024;

export async function lintCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      format: { type: "string", default: "text" },
      "database-url": { type: "string" },
      rules: { type: "boolean", default: false },
    },
  });
  if (values.rules) {
    for (const r of RULES) io.out(`${r.id.padEnd(36)} ${r.severity.padEnd(8)} ${r.needsDatabase ? "[db] " : ""}${r.description}\n`);
    return 0;
  }
  const format = values.format as LintFormat;
  if (!["text", "json", "github"].includes(format)) throw new UsageError(`--format must be text, json or github, got ${values.format}`);
  if (positionals.length === 0) throw new UsageError("give at least one file or directory to lint");
  const inputs = await readChangeSets(positionals);
  const url = values["database-url"];
  const schema = url
    ? await withTargetClient({ id: "lint", url }, (c) => loadSchemaInfo(c, inputs), { applicationName: "indexdeck:lint" })
    : null;
  const reports = [];
  for (const input of inputs) reports.push(await lintText({ ...input, schema }));
  // Written in batches as it is formatted: a report of many findings is never one string in memory.
  let batch = "";
  for (const piece of reportPieces(reports, format)) {
    batch += piece;
    if (batch.length >= OUTPUT_BATCH_CHARS) {
      io.out(batch);
      batch = "";
    }
  }
  io.out(batch);
  return summarize(reports).errors > 0 ? 1 : 0;
}
