import type pg from "pg";
import { appendAudit } from "../audit/log";
import { withTransaction } from "../store/pool";

/**
 * What one refused request leaves behind: where it claimed to come from and what it asked for, or,
 * for a refused API token, which token (when it is one) and why.
 */
export interface RefusedRequest {
  method?: string;
  path?: string;
  origin?: string | null;
  token?: number | null;
  reason?: string;
}

interface Window {
  count: number;
  first: Date;
  last: Date;
  samples: RefusedRequest[];
  timer: NodeJS.Timeout;
}

const SAMPLES = 5;

/**
 * Refused cross-site requests go to the audit log as security events, but aggregated: the first
 * refusal of a kind opens a window, and when it closes one row records how many came and a few
 * samples. A flood of forged requests thus costs at most one chained row per window per kind on
 * each app server, and never holds the chain's lock per request.
 */
export class RefusalLog {
  private readonly open = new Map<string, Window>();
  private readonly writes = new Set<Promise<void>>();

  constructor(private readonly pool: () => pg.Pool, private readonly windowMs = 60_000) {}

  note(kind: string, request: RefusedRequest, now = new Date()): void {
    let w = this.open.get(kind);
    if (!w) {
      const timer = setTimeout(() => this.close(kind), this.windowMs);
      timer.unref(); // a pending row must not keep a stopping server alive
      w = { count: 0, first: now, last: now, samples: [], timer };
      this.open.set(kind, w);
    }
    w.count++;
    w.last = now;
    if (w.samples.length < SAMPLES) w.samples.push(request);
  }

  /** Writes every open window now (tests, and a server that stops). */
  async flush(): Promise<void> {
    for (const kind of [...this.open.keys()]) this.close(kind);
    await Promise.all(this.writes);
  }

  private close(kind: string): void {
    const w = this.open.get(kind);
    if (!w) return;
    this.open.delete(kind);
    clearTimeout(w.timer);
    const write = withTransaction(this.pool(), (tx) => appendAudit(tx, {
      actor: null,
      role: null,
      action: `request.refused.${kind}`,
      details: { count: w.count, first: w.first.toISOString(), last: w.last.toISOString(), samples: w.samples },
    }))
      .then(() => undefined, (err) => console.error(`could not audit ${w.count} refused ${kind} request(s):`, err))
      .finally(() => this.writes.delete(write));
    this.writes.add(write);
  }
}
