import type { ApplySink, TaskPatch } from "./apply";
import type { EventData, EventKind } from "./events";

/** An event as MemorySink keeps it; narrowing on `kind` types its `data`. */
export type MemoryEvent = { [K in EventKind]: { kind: K; taskSeq?: number; data: EventData[K]; at: number } }[EventKind];

/** A task as MemorySink keeps it: its patches merged, every status it passed through, and when it started and ended. */
export type MemoryTask = TaskPatch & { statuses: string[]; startedAt?: string; finishedAt?: string };

/** An ApplySink that keeps everything in memory: for the CLI's direct mode and for tests. */
export class MemorySink implements ApplySink {
  readonly tasks = new Map<number, MemoryTask>();
  readonly events: MemoryEvent[] = [];
  cancel = false;

  constructor(private readonly onEvent?: (event: MemoryEvent) => void) {}

  async task(seq: number, patch: TaskPatch) {
    const t: MemoryTask = this.tasks.get(seq) ?? { statuses: [] };
    Object.assign(t, patch);
    if (patch.status) t.statuses.push(patch.status);
    // A retried statement keeps its first start: its time includes the waits for the lock.
    if (patch.started) t.startedAt ??= new Date().toISOString();
    if (patch.finished) t.finishedAt = new Date().toISOString();
    this.tasks.set(seq, t);
  }

  async event<K extends EventKind>(kind: K, data: EventData[K], taskSeq?: number) {
    const event = { kind, data, taskSeq, at: Date.now() } as MemoryEvent;
    this.events.push(event);
    this.onEvent?.(event);
  }

  async cancelRequested() {
    return this.cancel;
  }

  kinds(): EventKind[] {
    return this.events.map((e) => e.kind);
  }
}
