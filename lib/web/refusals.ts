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

/** Whose refusals a window counts, when they are one person's: the row is written as theirs. */
export interface RefusalSubject {
  key: string;
  actor: string;
  role: string | null;
}

interface Window<S> {
  kind: string;
  subject: RefusalSubject | null;
  count: number;
  first: Date;
  last: Date;
  samples: S[];
  timer: NodeJS.Timeout;
}

const SAMPLES = 5;

/**
 * Refused cross-site requests go to the audit log as security events, but aggregated: the first
 * refusal of a kind opens a window, and when it closes one row records how many came and a few
 * samples. A flood of forged requests thus costs at most one chained row per window per kind (and
 * per subject, for refusals of a known person's requests) on each app server, and never holds the
 * chain's lock per request. `S` is what a sample records of one refusal.
 */
export class RefusalLog<S = RefusedRequest> {
  private readonly open = new Map<string, Window<S>>();
  private readonly writes = new Set<Promise<void>>();

  constructor(
    private readonly pool: () => pg.Pool,
    private readonly windowMs = 60_000,
  ) {}

  note(kind: string, sample: S, now = new Date(), subject: RefusalSubject | null = null): void {
    const key = subject ? `${kind}\u0000${subject.key}` : kind;
    let w = this.open.get(key);
    if (!w) {
      const timer = setTimeout(() => this.close(key), this.windowMs);
      timer.unref(); // a pending row must not keep a stopping server alive
      w = { kind, subject, count: 0, first: now, last: now, samples: [], timer };
      this.open.set(key, w);
    }
    w.count++;
    w.last = now;
    if (w.samples.length < SAMPLES) w.samples.push(sample);
  }

  /** Writes every open window now (tests, and a server that stops). */
  async flush(): Promise<void> {
    for (const kind of [...this.open.keys()]) this.close(kind);
    await Promise.all(this.writes);
  }

  private close(key: string): void {
    const w = this.open.get(key);
    if (!w) return;
    this.open.delete(key);
    clearTimeout(w.timer);
    const kind = w.kind;
    const write = withTransaction(this.pool(), (tx) =>
      appendAudit(tx, {
        actor: w.subject?.actor ?? null,
        role: w.subject?.role ?? null,
        action: `request.refused.${kind}`,
        details: { count: w.count, first: w.first.toISOString(), last: w.last.toISOString(), samples: w.samples },
      }),
    )
      .then(
        () => undefined,
        (err) => console.error(`could not audit ${w.count} refused ${kind} request(s):`, err),
      )
      .finally(() => this.writes.delete(write));
    this.writes.add(write);
  }
}
