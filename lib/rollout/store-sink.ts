import type pg from "pg";
import type { ApplySink, TaskPatch } from "./apply";
import { appendEvent, type EventData, type EventKind } from "./events";

/** Reports apply progress into the store: task rows, events (+ NOTIFY), and reads cancel requests. */
export class StoreSink implements ApplySink {
  constructor(
    private readonly pool: pg.Pool,
    private readonly rolloutId: number,
  ) {}

  async task(seq: number, patch: TaskPatch): Promise<void> {
    await this.pool.query(
      `UPDATE rollout_task SET
         status             = coalesce($3, status),
         attempts           = coalesce($4, attempts),
         error              = CASE WHEN $5::boolean THEN $6 ELSE error END,
         created_by_rollout = coalesce($7, created_by_rollout),
         -- Each run of a task starts its clock afresh: a statement run again after a takeover is timed by
         -- that run, never from a start before the crash (the time between was nobody's statement).
         started_at         = CASE WHEN $8 THEN clock_timestamp() ELSE started_at END,
         finished_at        = CASE WHEN $9 THEN clock_timestamp() WHEN $8 THEN NULL ELSE finished_at END
       WHERE rollout_id = $1 AND seq = $2`,
      [
        this.rolloutId,
        seq,
        patch.status ?? null,
        patch.attempts ?? null,
        patch.error !== undefined,
        patch.error ?? null,
        patch.createdByRollout ?? null,
        !!patch.started,
        !!patch.finished,
      ],
    );
    if (patch.status)
      await appendEvent(this.pool, this.rolloutId, "task_status", { status: patch.status, error: patch.error ?? null }, seq);
  }

  async event<K extends EventKind>(kind: K, data: EventData[K], taskSeq?: number): Promise<void> {
    await appendEvent(this.pool, this.rolloutId, kind, data, taskSeq ?? null);
  }

  async cancelRequested(): Promise<boolean> {
    const {
      rows: [r],
    } = await this.pool.query<{ c: boolean }>("SELECT cancel_requested AS c FROM rollout WHERE id = $1", [this.rolloutId]);
    return !!r?.c;
  }
}
