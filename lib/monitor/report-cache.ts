import { targetUrl, type TargetConfig } from "../targets/config";
import { reportForTarget } from "./reports";

type Report = Awaited<ReturnType<typeof reportForTarget>> & { readAt: Date };

interface Entry {
  at: number;
  value: Promise<Report>;
  refreshing?: Promise<Report>;
}

const reports = new Map<string, Entry>();

/**
 * The Indexes page's report, read from the target's catalog at most once per `ttlMs` per process
 * (the page passes the collector's interval: the report is as fresh as the usage beside it),
 * however many people are looking: concurrent views share one read, and once a report is older than
 * `ttlMs` views get it while one fresh read runs behind them (a catalog of thousands of indexes takes
 * a while to read, and nobody should wait for it twice). A failed read is not kept, so the next view
 * tries again. Drafting a DROP reads the catalog afresh (reportForTarget).
 */
export function recentReport(target: TargetConfig, ttlMs: number): Promise<Report> {
  const key = `${target.id}\n${targetUrl(target)}`;
  const read = () => reportForTarget(target).then((r) => ({ ...r, readAt: new Date() }));
  const hit = reports.get(key);
  if (!hit) {
    const entry: Entry = { at: Date.now(), value: read() };
    reports.set(key, entry);
    entry.value.catch(() => {
      if (reports.get(key) === entry) reports.delete(key);
    });
    return entry.value;
  }
  if (Date.now() - hit.at >= ttlMs && !hit.refreshing) {
    const refreshing = read();
    hit.refreshing = refreshing;
    refreshing.then(
      () => reports.set(key, { at: Date.now(), value: refreshing }),
      () => { hit.refreshing = undefined; }, // keep showing the last good report; the next view retries
    );
  }
  return hit.value;
}
