/**
 * Open live streams per user on this app server. Each Server-Sent Events stream holds a socket, a
 * subscription and a 15 s timer for as long as the tab stays open; without a bound one user (or a
 * stolen cookie) could open thousands and starve everyone else's.
 */
export class StreamLimit {
  private readonly open = new Map<number, number>();

  constructor(readonly perUser: number) {}

  /** A release function for the new stream (safe to call more than once), or null when the user is at the limit. */
  acquire(userId: number): (() => void) | null {
    const now = this.open.get(userId) ?? 0;
    if (now >= this.perUser) return null;
    this.open.set(userId, now + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(userId) ?? 1) - 1;
      if (left > 0) this.open.set(userId, left);
      else this.open.delete(userId);
    };
  }

  count(userId: number): number {
    return this.open.get(userId) ?? 0;
  }
}

/** The SSE route's limit: more than a person has tabs of rollouts open, far fewer than a flood. */
export const liveStreams = new StreamLimit(10);
