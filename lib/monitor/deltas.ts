import type { CounterRow } from "../targets/counters";

export interface Previous {
  scans: number;
  tuplesRead: number;
  tuplesFetched: number;
  blksRead: number;
  blksHit: number;
  statsReset: Date | null;
  postmasterStart: Date;
}

export interface Delta {
  scans: number;
  tuplesRead: number;
  tuplesFetched: number;
  blksRead: number;
  blksHit: number;
  reset: boolean;
}

const FIELDS = ["scans", "tuplesRead", "tuplesFetched", "blksRead", "blksHit"] as const;
const same = (a: Date | null, b: Date | null) => (a?.getTime() ?? null) === (b?.getTime() ?? null);

/**
 * Activity between two snapshots of cumulative counters (invariant 7). If the counters were reset
 * in between — pg_stat_reset(), a restart or crash recovery, a failover to another server — or any
 * counter went down, the current values are the activity since the reset: they are counted once,
 * what happened before the reset and after the last snapshot is unknowable and counted as nothing.
 * Never negative, never counted twice.
 */
export function counterDelta(prev: Previous | null, cur: CounterRow): Delta {
  const reset =
    !prev ||
    !same(prev.statsReset, cur.statsReset) ||
    prev.postmasterStart.getTime() !== cur.postmasterStart.getTime() ||
    FIELDS.some((f) => cur[f] < prev[f]);
  const out = { reset: !!prev && reset } as Delta;
  for (const f of FIELDS) out[f] = reset ? (prev ? cur[f] : 0) : cur[f] - prev![f];
  return out;
}

/** Whether a snapshot read exactly the counters, clocks and validity stored as an index's last. */
export function sameCounters(prev: Previous & { valid: boolean }, cur: CounterRow): boolean {
  return (
    FIELDS.every((f) => prev[f] === cur[f]) &&
    prev.valid === cur.valid &&
    same(prev.statsReset, cur.statsReset) &&
    same(prev.postmasterStart, cur.postmasterStart)
  );
}
