import { readFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { decodeChangeSet } from "../changeset/files";
import { startApply, TargetBusyError } from "../rollout/apply";
import { MemorySink } from "../rollout/memory-sink";
import type { JobPhase, Phase } from "../rollout/machine";
import { expandPartitionedTasks, planDrops } from "../rollout/partitions";
import { planChangeSet, planRollback, PlanError, type PlannedTask } from "../rollout/plan";
import { withApplySession } from "../rollout/session";
import { DEFAULT_TARGET_LIMITS, sessionLimits } from "../targets/limits";
import { connectionSummary } from "../targets/display";
import { POSTGRES_URL, POSTGRES_URL_MESSAGE } from "../targets/urls";
import { UsageError, type Io } from "./io";

export const PHASE_USAGE = `usage: indexdeck precheck|apply|verify|rollback --changeset FILE --database-url URL [--json] [--backup-id ID] [--disk-free TEXT] [--reason TEXT] [--connect-timeout SECONDS]
       indexdeck precheck|apply|verify|rollback|cancel --rollout ID --as LOGIN [--json] [--backup-id ID] [--reason TEXT]
--database-url acts directly on that database, as the seed's Makefile did (treated as production: no
blocking builds). --connect-timeout is how long apply and rollback wait for the target to accept a session
(10 s by default). A target with an approval policy is acted on through an approved rollout (--rollout),
exactly as the web app does it.`;

type Options = Record<string, string | boolean | undefined>;

/**
 * The phases a direct run (--database-url) performs: every phase that is a job. Typed over JobPhase,
 * so the compiler holds it to the machine's list, without loading the machine (its store, audit and
 * webhooks) into a direct apply, which needs none of them.
 */
const DIRECT_PHASES: Record<JobPhase, true> = { precheck: true, apply: true, verify: true, rollback: true };
const isDirectPhase = (phase: Phase): phase is JobPhase => Object.hasOwn(DIRECT_PHASES, phase);

/** `indexdeck precheck|apply|verify|rollback|cancel`: the web app's engine, from a terminal. */
export async function phaseCommand(phase: Phase, argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      changeset: { type: "string" },
      "database-url": { type: "string" },
      target: { type: "string" },
      rollout: { type: "string" },
      as: { type: "string" },
      json: { type: "boolean", default: false },
      "backup-id": { type: "string" },
      "disk-free": { type: "string" },
      reason: { type: "string" },
      workloads: { type: "string" },
      "connect-timeout": { type: "string" },
    },
  });
  if (values.rollout) return viaRollout(phase, values, io);
  if (values.target)
    throw new UsageError(
      `target ${values.target} has an approval policy: create and approve a rollout in the web app, then run with --rollout ID --as LOGIN`,
    );
  if (!values.changeset || !values["database-url"]) throw new UsageError(PHASE_USAGE);
  // A phase that queues no job (cancel) acts on a rollout's running job: there is none in direct mode.
  if (!isDirectPhase(phase)) throw new UsageError(`${phase} works on a rollout (--rollout ID); a direct apply is cancelled with Ctrl-C`);
  return direct(phase, values, io);
}

async function direct(phase: JobPhase, v: Options, io: Io): Promise<number> {
  const file = String(v.changeset);
  let sql: string;
  try {
    sql = decodeChangeSet(file, await readFile(file));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const url = String(v["database-url"]);
  if (!POSTGRES_URL.test(url)) throw new UsageError(`--database-url ${POSTGRES_URL_MESSAGE}`);
  const label = connectionSummary(url);
  // A URL on the command line is treated as a production target with the file's defaults. Only
  // pre-check and verify read the rest of a target, so only they load the file's schema.
  const target = async () =>
    (await import("../targets/config")).parseTargetsFile(
      JSON.stringify({ targets: [{ id: "cli", label, environment: "production", url, approvals: { required: 2 } }] }),
      "--database-url",
    )[0];
  const applyOptions = {
    url,
    applicationName: `indexdeck:cli:${process.pid}`,
    targetKey: label,
    connectTimeoutMs: connectTimeoutMs(v),
  };
  // An apply's sessions open while the change set is parsed and planned: they connect and pin their
  // settings (read back, nothing written); no lock is taken and no statement of the file runs before `run`.
  const started = phase === "apply" ? startApply(applyOptions) : null;
  // Two turns of the event loop before the parse holds it: this code runs in the poll phase (after
  // readFile), and a socket's connect is only seen in the next one, where pg sends its startup
  // packet. The server then starts the session's backend while the change set is parsed (~2 ms).
  if (started) await new Promise((r) => setImmediate(() => setImmediate(r)));
  let tasks: PlannedTask[];
  try {
    tasks = await planChangeSet(file, sql, "production", sessionLimits({ limits: DEFAULT_TARGET_LIMITS, apply: {} }));
  } catch (err) {
    await started?.abandon();
    if (err instanceof PlanError) {
      io.err(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const out = (result: unknown, ok: boolean, text: () => string) => {
    io.out(v.json ? `${JSON.stringify(result, null, 2)}\n` : text());
    return ok ? 0 : 1;
  };
  if (phase === "precheck") {
    const { runPrecheck } = await import("../rollout/precheck");
    const report = await runPrecheck({
      target: await target(),
      changesetName: path.basename(file),
      sql,
      tasks,
      attestations: { backupId: v["backup-id"] as string, diskFree: v["disk-free"] as string, by: "cli" },
      stagingVerified: null,
      direct: true,
    });
    return out(
      report,
      report.ok,
      () =>
        report.checks.map((c) => `${c.status.padEnd(4)}  ${c.title}: ${c.summary}\n`).join("") +
        `pre-check ${report.ok ? "passed" : "FAILED"}\n`,
    );
  }
  if (phase === "verify") {
    const [{ runVerify }, { parseWorkloads, workloadsFor }] = await Promise.all([
      import("../rollout/verify"),
      import("../rollout/workloads"),
    ]);
    const workloads = v.workloads
      ? await parseWorkloads(String(v.workloads), await readFile(String(v.workloads), "utf8"))
      : await workloadsFor(path.basename(file));
    const report = await runVerify(await target(), tasks, workloads);
    return out(
      report,
      report.ok,
      () =>
        [...report.indexes, ...report.plans].map((c) => `${c.status.padEnd(4)}  ${c.title}: ${c.summary}\n`).join("") +
        `verify ${report.ok ? "passed" : "FAILED"}\n`,
    );
  }
  let run = tasks;
  if (phase === "rollback") {
    if (!v.reason || String(v.reason).length < 5) throw new UsageError("rollback needs --reason (at least 5 characters)");
    // Without a store there is no record of which indexes existed before: every index the change set creates is dropped.
    const partitioned = await withApplySession(applyOptions, (db) => expandPartitionedTasks(db, tasks));
    const expanded = new Set(partitioned.map((p) => p.seq));
    run = planRollback([
      ...tasks.flatMap((t) =>
        t.kind === "create_index" && t.indexName && !expanded.has(t.seq) ? [{ ...t, indexName: t.indexName, partitioned: !!t.only }] : [],
      ),
      ...partitioned.flatMap((p) => planDrops(p).map((d) => ({ ...d, line: tasks[p.seq].line }))),
    ]);
  }
  const sink = new MemorySink(
    v.json
      ? undefined
      : (e) => {
          if (e.kind === "progress")
            io.out(
              `  [${e.taskSeq}] ${e.data.index ?? ""} ${e.data.phase} ${e.data.percent}%${e.data.blockers.length ? ` (blocked by ${e.data.blockers.map((b) => b.pid).join(", ")})` : ""}\n`,
            );
          else if (e.kind !== "task_status")
            io.out(`${e.kind}${e.taskSeq !== undefined ? ` [${e.taskSeq}]` : ""} ${JSON.stringify(e.data)}\n`);
        },
  );
  try {
    const result = await (started ?? startApply(applyOptions)).run(run, sink);
    const perIndex = run
      .filter((t) => t.indexName)
      .map((t) => ({ index: t.indexName, statement: t.statement, ...sink.tasks.get(t.seq), statuses: undefined }));
    return out(
      { ...result, tasks: perIndex },
      result.ok,
      () => `${phase} ${result.ok ? "finished" : `FAILED: ${result.error}${result.advice ? `\n  ${result.advice}` : ""}`}\n`,
    );
  } catch (err) {
    if (err instanceof TargetBusyError) {
      io.err(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

/** --connect-timeout in seconds, as milliseconds. */
function connectTimeoutMs(v: Options): number | undefined {
  const given = v["connect-timeout"];
  if (given === undefined) return undefined;
  const seconds = Number(given);
  if (!(seconds > 0 && seconds <= 3600)) throw new UsageError(`--connect-timeout must be a number of seconds from 0 to 3600, got ${given}`);
  return Math.round(seconds * 1000);
}

/** Acts on a rollout in the store: queued like a click in the web app, followed until it settles. */
async function viaRollout(phase: Phase, v: Options, io: Io): Promise<number> {
  const id = Number(v.rollout);
  if (!Number.isSafeInteger(id) || id <= 0) throw new UsageError(`--rollout must be a rollout id, got ${v.rollout}`);
  if (!v.as) throw new UsageError("--as LOGIN is required: the audit log records who acted");
  const [
    { storePool },
    { authorize, isRole },
    { isJobPhase, MACHINE, requestPhase },
    { eventsAfter },
    { getRollout, rolloutTasks },
    { governingTargets },
  ] = await Promise.all([
    import("../store/pool"),
    import("../auth/policy"),
    import("../rollout/machine"),
    import("../rollout/events"),
    import("../rollout/rollouts"),
    import("../targets/source"),
  ]);
  const pool = storePool();
  const {
    rows: [user],
  } = await pool.query<{ id: number; email: string; role: string }>(
    "SELECT id, email, role FROM app_user WHERE email = $1 AND disabled_at IS NULL",
    [v.as],
  );
  if (!user || !isRole(user.role)) throw new UsageError(`no active user ${v.as}`);
  const actor = authorize({ id: user.id, email: user.email, role: user.role }, MACHINE[phase].permission);
  const before = (await eventsAfter(pool, id, 0)).at(-1)?.id ?? 0;
  const { message } = await requestPhase(
    pool,
    id,
    phase,
    actor,
    {
      backupId: v["backup-id"] as string | undefined,
      diskFree: v["disk-free"] as string | undefined,
      reason: v.reason as string | undefined,
    },
    governingTargets(pool),
  );
  if (!v.json) io.out(`${message}; waiting for a job runner (the web app or \`indexdeck worker\`)…\n`);
  let last = before;
  for (;;) {
    const events = await eventsAfter(pool, id, last);
    for (const e of events) {
      last = e.id;
      if (!v.json && e.kind !== "task_status")
        io.out(`${e.kind}${e.taskSeq !== null ? ` [${e.taskSeq}]` : ""} ${JSON.stringify(e.data)}\n`);
    }
    // A cancel is a request to the running apply, not a job of its own: nothing to wait for here.
    if (!isJobPhase(phase)) break;
    const { rows: open } = await pool.query("SELECT 1 FROM job WHERE rollout_id = $1 AND state IN ('queued', 'running')", [id]);
    if (!open.length) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  const rollout = (await getRollout(pool, id))!;
  const tasks = await rolloutTasks(pool, id);
  const ok = !rollout.error;
  io.out(
    v.json
      ? `${JSON.stringify({ ok, state: rollout.state, error: rollout.error, precheck: rollout.precheck, verify: rollout.verify, tasks }, null, 2)}\n`
      : `rollout ${id} is ${rollout.state}${rollout.error ? `: ${rollout.error}` : ""}\n`,
  );
  return ok ? 0 : 1;
}
