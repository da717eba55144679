import pg from "pg";
import { EVENT_CHANNEL, eventsAfter, type RolloutEvent } from "./events";

type Listener = (events: RolloutEvent[]) => void;

interface Channel {
  lastId: number;
  listeners: Set<Listener>;
  fetching: Promise<void> | null;
  again: boolean;
}

/**
 * One per process: a single LISTEN connection to the store fans rollout events out to every open
 * stream. However many people watch a rollout, each new event is read from the store once per
 * server, and the target is polled only by the one apply poller.
 */
export class EventHub {
  private readonly channels = new Map<number, Channel>();
  private listener: pg.Client | null = null;
  private starting: Promise<void> | null = null;

  constructor(
    private readonly pool: pg.Pool,
    private readonly storeUrl: string,
  ) {}

  private async ensureListening(): Promise<void> {
    this.starting ??= (async () => {
      const c = new pg.Client({ connectionString: this.storeUrl, application_name: "indexdeck:events" });
      c.on("notification", (n) => {
        const rolloutId = Number(n.payload?.split(":")[0]);
        if (this.channels.has(rolloutId)) void this.pull(rolloutId);
      });
      c.on("error", () => {
        // Reconnect on next subscription; streams fall back to their periodic catch-up meanwhile.
        this.listener = null;
        this.starting = null;
      });
      await c.connect();
      await c.query(`LISTEN ${EVENT_CHANNEL}`);
      this.listener = c;
    })();
    return this.starting;
  }

  private pull(rolloutId: number): Promise<void> {
    const ch = this.channels.get(rolloutId);
    if (!ch) return Promise.resolve();
    if (ch.fetching) {
      ch.again = true;
      return ch.fetching;
    }
    ch.fetching = (async () => {
      do {
        ch.again = false;
        const events = await eventsAfter(this.pool, rolloutId, ch.lastId);
        if (events.length) {
          ch.lastId = events[events.length - 1].id;
          for (const l of ch.listeners) l(events);
        }
      } while (ch.again);
    })().finally(() => {
      ch.fetching = null;
    });
    return ch.fetching;
  }

  /**
   * Subscribes to a rollout's events after `afterId`: the history first (a late or reloading viewer
   * sees everything), then live events, each exactly once and in order.
   */
  async subscribe(rolloutId: number, afterId: number, onEvents: Listener): Promise<() => void> {
    await this.ensureListening();
    let sent = afterId;
    const deliver: Listener = (events) => {
      const fresh = events.filter((e) => e.id > sent);
      if (fresh.length) {
        sent = fresh[fresh.length - 1].id;
        onEvents(fresh);
      }
    };
    for (;;) {
      const history = await eventsAfter(this.pool, rolloutId, sent);
      if (!history.length) break;
      deliver(history);
    }
    let ch = this.channels.get(rolloutId);
    if (!ch) {
      ch = { lastId: sent, listeners: new Set(), fetching: null, again: false };
      this.channels.set(rolloutId, ch);
    }
    ch.lastId = Math.min(ch.lastId, sent);
    ch.listeners.add(deliver);
    void this.pull(rolloutId); // anything that arrived between the history read and joining
    return () => {
      ch!.listeners.delete(deliver);
      if (ch!.listeners.size === 0) this.channels.delete(rolloutId);
    };
  }

  /** Periodic catch-up for a channel, in case a NOTIFY was missed while reconnecting. */
  poke(rolloutId: number): void {
    void this.pull(rolloutId);
  }

  async close(): Promise<void> {
    await this.listener?.end().catch(() => undefined);
    this.listener = null;
  }
}
