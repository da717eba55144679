import type { ApplySink, TaskPatch } from "./apply";
import type { EventKind } from "./events";

/** An ApplySink that keeps everything in memory: for the CLI's direct mode and for tests. */
export class MemorySink implements ApplySink {
  readonly tasks = new Map<number, TaskPatch & { statuses: string[] }>();
  readonly events: Array<{ kind: EventKind; taskSeq?: number; data: Record<string, unknown>; at: number }> = [];
  cancel = false;

  constructor(private readonly onEvent?: (kind: EventKind, data: Record<string, unknown>, taskSeq?: number) => void) {}

  async task(seq: number, patch: TaskPatch) {
    const t = this.tasks.get(seq) ?? { statuses: [] };
    Object.assign(t, patch);
    if (patch.status) t.statuses.push(patch.status);
    this.tasks.set(seq, t);
  }

  async event(kind: EventKind, data: Record<string, unknown>, taskSeq?: number) {
    this.events.push({ kind, data, taskSeq, at: Date.now() });
    this.onEvent?.(kind, data, taskSeq);
  }

  async cancelRequested() {
    return this.cancel;
  }

  kinds(): EventKind[] {
    return this.events.map((e) => e.kind);
  }
}
