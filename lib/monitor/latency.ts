import * as hdr from "hdr-histogram-js";
import { formatChange } from "../text/format";
import type pg from "pg";
import { statementStats } from "../targets/catalog";
import { withTargetClient } from "../targets/connect";
import type { TargetConfig } from "../targets/config";
import { sampleParams, type Workload } from "../rollout/workloads";

export interface LatencyResult {
  workload: string;
  samples: number;
  errors: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  error: string | null;
  /** The samples the probe meant to take; fewer were taken when the time budget ran out first. */
  samplesWanted: number;
  budgetCut: boolean;
  /** pg_stat_statements at probe time (every caller, not only the probe): calls and mean, where installed. */
  pgssCalls?: number | null;
  pgssMeanMs?: number | null;
}

export interface ProbeOptions {
  samples?: number;
  /** Per query; a probe never holds the target up for long. */
  statementTimeoutMs?: number;
  /** Pause between queries, so a probe cannot flood the server. */
  paceMs?: number;
  /** The whole probe's time budget, shared out among the patterns still to run. */
  budgetMs?: number;
}

/** Below this many samples a p95 is a guess: pages and the report say so beside it. */
export const MIN_P95_SAMPLES = 30;

/** The samples of a measurement as pages and the report show them, with why there are fewer than meant. */
export function sampleNote(r: Pick<LatencyResult, "samples" | "samplesWanted" | "budgetCut"> | null): string {
  if (!r) return "0";
  const cut = r.budgetCut ? ` of ${r.samplesWanted} (time budget)` : "";
  return `${r.samples}${cut}${r.samples > 0 && r.samples < MIN_P95_SAMPLES ? ", too few for a reliable p95" : ""}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs each query pattern `samples` times with parameters sampled from the target, in a READ ONLY
 * transaction with a short statement_timeout, paced, and records the latency in an HDR histogram
 * (microsecond resolution). A pattern that fails or times out is reported for itself; the rest go on.
 */
export async function probeLatency(target: TargetConfig, workloads: Workload[], opts: ProbeOptions = {}): Promise<LatencyResult[]> {
  const samples = opts.samples ?? 200;
  const end = performance.now() + (opts.budgetMs ?? Number.POSITIVE_INFINITY);
  return withTargetClient(
    target,
    async (db) => {
      const results: LatencyResult[] = [];
      for (const [i, w] of workloads.entries()) {
        // Each pattern gets an equal share of what is left, so one slow pattern can't starve the rest.
        const deadline = performance.now() + (end - performance.now()) / (workloads.length - i);
        const r = await probeOne(db, w, samples, deadline, opts);
        const params = r.samples ? (await sampleParams(db, w).catch(() => []))[0] : undefined;
        const pgss = params ? await statementStats(db, w.query, params) : null;
        results.push({ ...r, pgssCalls: pgss?.calls ?? null, pgssMeanMs: pgss?.meanMs ?? null });
      }
      return results;
    },
    { applicationName: "indexdeck:probe", statementTimeoutMs: opts.statementTimeoutMs ?? 2000 },
  );
}

async function probeOne(db: pg.ClientBase, w: Workload, samples: number, deadline: number, opts: ProbeOptions): Promise<LatencyResult> {
  const base = {
    workload: w.name,
    samples: 0,
    errors: 0,
    p50Ms: null,
    p95Ms: null,
    p99Ms: null,
    maxMs: null,
    error: null,
    samplesWanted: samples,
    budgetCut: false,
  };
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
  let lastError: string | null = null;
  let errors = 0;
  let budgetCut = false;
  const begin = async () => {
    await db.query("BEGIN READ ONLY");
    await db.query(`SET LOCAL statement_timeout = ${Math.round(opts.statementTimeoutMs ?? 2000)}`);
  };
  try {
    await begin();
    const params = await sampleParams(db, w);
    if (!params.length) return { ...base, error: "no rows to sample parameters from (the table is empty)" };
    // One unrecorded run first, so plan caching and the first catalog lookups don't land in the tail.
    try {
      await db.query(w.query, params[0]);
    } catch {
      await db.query("ROLLBACK");
      await begin();
    }
    for (let i = 0; i < samples; i++) {
      if (performance.now() >= deadline) {
        budgetCut = true;
        break;
      }
      const t = process.hrtime.bigint();
      try {
        await db.query(w.query, params[i % params.length]);
        histogram.recordValue(Number((process.hrtime.bigint() - t) / 1000n));
      } catch (err) {
        // A failed or timed-out query aborts the transaction: start a fresh one and go on.
        errors++;
        lastError = (err as Error).message;
        await db.query("ROLLBACK");
        await begin();
      }
      if (opts.paceMs ?? 2) await sleep(opts.paceMs ?? 2);
    }
  } catch (err) {
    return { ...base, errors: errors + 1, error: (err as Error).message };
  } finally {
    await db.query("ROLLBACK").catch(() => undefined);
  }
  const ms = (p: number) => (histogram.totalCount ? histogram.getValueAtPercentile(p) / 1000 : null);
  const result = {
    workload: w.name,
    samples: histogram.totalCount,
    errors,
    p50Ms: ms(50),
    p95Ms: ms(95),
    p99Ms: ms(99),
    maxMs: histogram.totalCount ? histogram.maxValue / 1000 : null,
    error: lastError,
    samplesWanted: samples,
    budgetCut,
  };
  histogram.destroy();
  return result;
}

export async function saveProbe(
  db: Pick<pg.Pool, "query"> | pg.ClientBase,
  rolloutId: number,
  phase: "before" | "after",
  results: LatencyResult[],
): Promise<void> {
  for (const r of results) {
    await db.query(
      `INSERT INTO latency_probe (rollout_id, phase, workload, samples, errors, p50_ms, p95_ms, p99_ms, max_ms, error, pgss_calls, pgss_mean_ms, samples_wanted, budget_cut)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [
        rolloutId,
        phase,
        r.workload,
        r.samples,
        r.errors,
        r.p50Ms,
        r.p95Ms,
        r.p99Ms,
        r.maxMs,
        r.error,
        r.pgssCalls ?? null,
        r.pgssMeanMs ?? null,
        r.samplesWanted,
        r.budgetCut,
      ],
    );
  }
}

export interface LatencyComparison {
  workload: string;
  before: LatencyResult | null;
  after: LatencyResult | null;
  /** (after − before) / before × 100 of p95; null unless both were measured. */
  changePercent: number | null;
}

/** The seed's "expected p95" table, made of measurements: the latest before and after of each pattern. */
export async function latencyComparison(db: Pick<pg.Pool, "query">, rolloutId: number): Promise<LatencyComparison[]> {
  const { rows } = await db.query<LatencyResult & { phase: "before" | "after" }>(
    `SELECT DISTINCT ON (phase, workload)
       phase,
       workload,
       samples,
       errors,
       p50_ms AS "p50Ms",
       p95_ms AS "p95Ms",
       p99_ms AS "p99Ms",
       max_ms AS "maxMs",
       error,
       pgss_calls::float8 AS "pgssCalls",
       pgss_mean_ms AS "pgssMeanMs",
       coalesce(samples_wanted, samples) AS "samplesWanted",
       budget_cut AS "budgetCut"
     FROM latency_probe
    WHERE rollout_id = $1
    ORDER BY phase, workload, id DESC`,
    [rolloutId],
  );
  const names = [...new Set(rows.map((r) => r.workload))];
  return names.map((workload) => {
    const before = rows.find((r) => r.workload === workload && r.phase === "before") ?? null;
    const after = rows.find((r) => r.workload === workload && r.phase === "after") ?? null;
    const changePercent =
      before?.p95Ms && after?.p95Ms !== null && after?.p95Ms !== undefined ? ((after.p95Ms - before.p95Ms) / before.p95Ms) * 100 : null;
    return { workload, before, after, changePercent };
  });
}

/** One query pattern as the p95 chart draws it: plain figures a client component can take. */
export interface LatencyBar {
  workload: string;
  /** p95 in ms; null where that side was not measured (drawn as "not measured", never as 0). */
  before: number | null;
  after: number | null;
  change: string | null;
  beforeSamples: string;
  afterSamples: string;
}

export function latencyBars(rows: LatencyComparison[]): LatencyBar[] {
  return rows.map((r) => ({
    workload: r.workload,
    before: r.before?.p95Ms ?? null,
    after: r.after?.p95Ms ?? null,
    change: formatChange(r.changePercent),
    beforeSamples: sampleNote(r.before),
    afterSamples: sampleNote(r.after),
  }));
}
