import type pg from "pg";
import type { TargetConfig } from "../targets/config";
import { targetUrl } from "../targets/urls";
import { intervalCache, scopedIntervalCache } from "../serve/interval-cache";
import { reportForTarget } from "./index-report";
import { usageSummary, type UsageSummary } from "./usage";

type Report = Awaited<ReturnType<typeof reportForTarget>> & { readAt: Date };

const reports = intervalCache<Report>();

/**
 * The Indexes page's report, read from the target's catalog at most once per `ttlMs` per process
 * (the page passes the collector's interval: the report is as fresh as the usage beside it), shared
 * by every viewer: a catalog of thousands of indexes takes a while to read, and nobody should wait
 * for it twice. Drafting a DROP reads the catalog afresh (reportForTarget).
 */
export function recentReport(target: TargetConfig, ttlMs: number): Promise<Report> {
  return reports(`${target.id}\n${targetUrl(target)}`, ttlMs, () => reportForTarget(target).then((r) => ({ ...r, readAt: new Date() })));
}

const rates = scopedIntervalCache<Pick<pg.Pool, "query">, Map<string, UsageSummary>>();

/** The Indexes page's scans-per-minute columns, which the collector recomputes once per interval. */
export function recentUsageRates(store: Pick<pg.Pool, "query">, targetId: string, ttlMs: number): Promise<Map<string, UsageSummary>> {
  return rates(store, targetId, ttlMs, () => usageSummary(store, targetId));
}
