import { parseArgs } from "node:util";
import { reportForTarget } from "../monitor/index-report";
import { findTarget } from "../targets/config";
import { REFUSED } from "../targets/nodes";
import { buildRolloutReport, ReportError, reportMarkdown } from "../rollout/report";
import { storePool } from "../store/pool";
import { UsageError, type Io } from "./io";
import { fileTargets } from "../targets/source";

export async function reportCommand(argv: string[], io: Io): Promise<number> {
  if (argv[0] === "rollout") return rolloutReportCommand(argv.slice(1), io);
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: "string" },
      "database-url": { type: "string" },
      "replica-url": { type: "string", multiple: true, default: [] },
      json: { type: "boolean", default: false },
      "min-bytes": { type: "string" },
      "window-days": { type: "string" },
    },
  });
  const replicaUrls = values["replica-url"];
  if (!values.target === !values["database-url"] || (values.target && replicaUrls.length))
    throw new UsageError(
      "usage: indexdeck report (--target ID | --database-url URL [--replica-url URL]...) [--json] [--min-bytes N] [--window-days N]\n       indexdeck report rollout ID [--format md]",
    );
  const target = values.target
    ? findTarget(await fileTargets()(), values.target)
    : { id: "cli", url: values["database-url"]!, replicaUrls };
  if (!target) throw new UsageError(`unknown target ${values.target}`);
  const minBytes = values["min-bytes"] === undefined ? undefined : Number(values["min-bytes"]);
  if (minBytes !== undefined && !(minBytes >= 0)) throw new UsageError("--min-bytes must be a number ≥ 0");
  const windowDays = values["window-days"] === undefined ? undefined : Number(values["window-days"]);
  if (windowDays !== undefined && !(windowDays >= 0)) throw new UsageError("--window-days must be a number ≥ 0");
  const { indexes, ...report } = await reportForTarget(target, { minBytes, windowDays });
  // A replica URL that reaches a primary or another cluster is a mistake in the input, not evidence.
  const refused = report.nodes.filter((n) => n.problem && REFUSED.has(n.problem.code));
  if (refused.length) throw new UsageError(refused.map((n) => `replica ${n.node} (${n.label}): ${n.problem!.message}`).join("\n"));
  if (values.json) {
    io.out(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    io.out(`${indexes.length} indexes; statistics reset ${report.statsResetAt ?? "never"}\n`);
    for (const n of report.nodes)
      io.out(`  ${n.node} (${n.role}): ${n.problem ? n.problem.message : `counting since ${n.countingSince} (${n.windowDays} days)`}\n`);
    const short = report.usage.filter((u) => u.verdict === "not-enough-evidence");
    io.out(`\nnot enough evidence to call unused: ${short.length}\n`);
    for (const u of short) io.out(`  ${u.schema}.${u.index} on ${u.table}: ${u.reason}\n`);
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
