/** Said when the line is full: the caller answers 503 with Retry-After rather than queue without end. */
export class BusyError extends Error {}

/**
 * Expensive work (a rollout's report) on this app server: at most `concurrent` at a time, the rest
 * waiting in line in arrival order, at most `waiting` of them, and beyond that refused. A Next.js
 * server is one JavaScript thread; fifty reports started at once would each take their turns on it
 * and everything else (a sign-in) would wait behind all of them. Waiting in line costs nothing, so
 * what arrives meanwhile is served between the few that run.
 */
export class WorkLimit {
  private running = 0;
  private readonly line: Array<() => void> = [];

  constructor(
    readonly name: string,
    readonly concurrent: number,
    readonly waiting: number,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrent) {
      if (this.line.length >= this.waiting) {
        throw new BusyError(
          `${this.name}: ${this.running} running and ${this.line.length} waiting on this server; try again in a few seconds`,
        );
      }
      // The place is handed over by the finishing run (below), so `running` never drops in between.
      await new Promise<void>((resolve) => this.line.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      const next = this.line.shift();
      if (next) next();
      else this.running--;
    }
  }

  load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.line.length };
  }
}

/** Reports generated at once per app server, and how many may wait for a turn. */
export const reportWork = new WorkLimit("rollout reports", 2, 200);
