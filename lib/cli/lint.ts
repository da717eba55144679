import { parseArgs } from "node:util";
import { readChangeSets } from "../changeset/files";
import { reportPieces, STREAMED_FORMATS, type LintFormat } from "../changeset/format";
import { lintParts, lintText, summarize, type LintSummary } from "../changeset/lint";
import { parserReady, PARSE_AHEAD_BYTES } from "../changeset/parse";
import { ParseWorker } from "../changeset/parse-ahead";
import { RULES } from "../changeset/rules";
import { BUNDLED } from "./bundle";
import { UsageError, type Io } from "./io";

const OUTPUT_BATCH_BYTES = 64 * 1024;

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
  // For a file long enough to parse ahead (parse-ahead.ts), when findings are streamed. Started before
  // the file is split, which is about as long as the worker takes to start.
  const parseWorker =
    BUNDLED && format !== "json" && inputs.some((input) => input.text.length >= PARSE_AHEAD_BYTES)
      ? new ParseWorker(BUNDLED.parseWorker)
      : undefined;
  try {
    return await lintInputs(inputs, format, values["database-url"], io, parseWorker);
  } finally {
    parseWorker?.stop();
  }
}

async function lintInputs(
  inputs: Awaited<ReturnType<typeof readChangeSets>>,
  format: LintFormat,
  url: string | undefined,
  io: Io,
  parseWorker: ParseWorker | undefined,
): Promise<number> {
  const schema = url ? await schemaOf(url, inputs) : null;
  const out = batchedOutput(io);
  if (format === "json") {
    const reports = [];
    for (const input of inputs) reports.push(await lintText({ ...input, schema }));
    for (const piece of reportPieces(reports, format)) await out.write(piece);
    out.flush();
    return summarize(reports).errors > 0 ? 1 : 0;
  }
  // Findings are written as each part of a file is linted: memory follows the part, not the report.
  await parserReady();
  const { finding, end } = STREAMED_FORMATS[format];
  const totals: LintSummary = { files: 0, statements: 0, indexes: 0, errors: 0, warnings: 0 };
  const names: string[] = [];
  for (const input of inputs) {
    const parts = lintParts({ ...input, schema }, { parseWorker });
    let part = parts.next();
    for (; !part.done; part = parts.next()) {
      for (const f of part.value) {
        await out.write(finding(f));
        if (f.severity === "error") totals.errors++;
        else totals.warnings++;
      }
    }
    const report = part.value;
    totals.files++;
    totals.statements += report.statements;
    totals.indexes += report.indexes.length;
    names.push(...report.indexes);
  }
  for (const piece of end(totals, names)) await out.write(piece);
  out.flush();
  return totals.errors > 0 ? 1 : 0;
}

/** The target's catalog for the database rules; pg is loaded only when a lint asks for a database. */
async function schemaOf(url: string, inputs: Parameters<typeof import("../changeset/schema").loadSchemaInfo>[1]) {
  const [{ loadSchemaInfo }, { withTargetClient }] = await Promise.all([import("../changeset/schema"), import("../targets/connect")]);
  return withTargetClient({ id: "lint", url }, (c) => loadSchemaInfo(c, inputs), { applicationName: "indexdeck:lint" });
}

/**
 * Writes in batches, each once the one before has gone out: a report of many findings is never one
 * string in memory, nor queued whole behind a pipe that reads more slowly than the linter writes.
 * Each piece is encoded straight into the batch's bytes: joining a batch's many small strings and
 * then encoding the join cost a sixth of a long file's lint.
 */
export function batchedOutput(io: Io) {
  let bytes = Buffer.allocUnsafe(OUTPUT_BATCH_BYTES);
  let used = 0;
  // A new buffer for each batch: the stream may still hold the last one.
  const send = () => {
    if (used) io.out(bytes.subarray(0, used));
    bytes = Buffer.allocUnsafe(OUTPUT_BATCH_BYTES);
    used = 0;
  };
  return {
    async write(piece: string) {
      // A UTF-16 code unit is at most 3 bytes of UTF-8: a piece that may not fit goes in the next batch.
      if (piece.length * 3 > bytes.length - used) {
        send();
        await io.drained?.();
      }
      if (piece.length * 3 > bytes.length) io.out(piece);
      else used += bytes.write(piece, used);
    },
    flush: send,
  };
}
