import { parseArgs } from "node:util";
import { reportForTarget } from "../monitor/reports";
import { findTarget, loadTargets } from "../targets/config";
import { buildRolloutReport, ReportError, reportMarkdown } from "../report/rollout-report";
import { storePool } from "../store/pool";
import { UsageError, type Io } from "./io";

export async function reportCommand(argv: string[], io: Io): Promise<number> {
  if (argv[0] === "rollout") return rolloutReportCommand(argv.slice(1), io);
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: "string" },
      "database-url": { type: "string" },
      json: { type: "boolean", default: false },
      "min-bytes": { type: "string" },
    },
  });
  if (!values.target === !values["database-url"])
    throw new UsageError(
      "usage: indexdeck report (--target ID | --database-url URL) [--json] [--min-bytes N]\n       indexdeck report rollout ID [--format md]",
    );
  const target = values.target ? findTarget(loadTargets(), values.target) : { id: "cli", url: values["database-url"]! };
  if (!target) throw new UsageError(`unknown target ${values.target}`);
  const minBytes = values["min-bytes"] === undefined ? undefined : Number(values["min-bytes"]);
  if (minBytes !== undefined && !(minBytes >= 0)) throw new UsageError("--min-bytes must be a number ≥ 0");
  const { indexes, ...report } = await reportForTarget(target, { minBytes });
  if (values.json) {
    io.out(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    io.out(`${indexes.length} indexes; statistics reset ${report.statsResetAt ?? "never"}\n`);
    for (const kind of ["unused", "duplicate", "invalid"] as const) {
      io.out(`\n${kind}: ${report[kind].length}\n`);
      for (const f of report[kind]) io.out(`  ${f.schema}.${f.index} on ${f.table}: ${f.reason}\n`);
    }
  }
  return 0;
}

/** `indexdeck report rollout ID --format md`: the rollout's completion report, from the store. */
async function rolloutReportCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { format: { type: "string", default: "md" } } });
  const id = Number(positionals[0]);
  if (!Number.isSafeInteger(id) || id <= 0 || values.format !== "md")
    throw new UsageError("usage: indexdeck report rollout ID [--format md]");
  try {
    // The CLI reads with the store's own credentials, which already give the whole audit log: the full report.
    io.out(reportMarkdown(await buildRolloutReport(storePool(), id, "admin")));
    return 0;
  } catch (err) {
    if (err instanceof ReportError) {
      io.err(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
