import type pg from "pg";

export const FOLLOWUPS = {
  usage_24h: { label: "Confirm the new indexes are used (24 h)", afterHours: 24 },
  sustained_1w: { label: "Review sustained improvement (1 week)", afterHours: 24 * 7 },
  unused_30d: { label: "Review for unused indexes (30 days)", afterHours: 24 * 30 },
} as const;
export type FollowupKind = keyof typeof FOLLOWUPS;

/** Creates the three follow-ups of a signed-off rollout, in the sign-off's transaction. */
export async function createFollowups(tx: pg.ClientBase, rolloutId: number, signedAt: Date): Promise<void> {
  for (const [kind, f] of Object.entries(FOLLOWUPS)) {
    await tx.query("INSERT INTO followup (rollout_id, kind, due_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", [
      rolloutId,
      kind,
      new Date(signedAt.getTime() + f.afterHours * 3_600_000),
    ]);
  }
}

/**
 * Scans since `since` of each index a rollout created, from the collector's 5-minute buckets from the
 * one `since` falls in: they are kept 30 days (raw rows 48 hours), and read by index, where raw rows
 * are in time order only.
 */
async function scansSince(db: Pick<pg.Pool, "query">, rolloutId: number, since: Date): Promise<Array<{ index: string; scans: number }>> {
  const { rows } = await db.query<{ index: string; scans: number }>(
    `SELECT t.index_name AS index, coalesce(sum(d.scans), 0)::float8 AS scans
       FROM rollout_task t
       JOIN rollout r ON r.id = t.rollout_id
       LEFT JOIN usage_delta d ON d.target_id = r.target_id AND d.index_key = coalesce(t.schema_name, 'public') || '.' || t.index_name
                              AND d.resolution = '5m' AND d.bucket_start >= date_bin('5 minutes', $2::timestamptz, 'epoch')
      WHERE t.rollout_id = $1 AND t.created_by_rollout
      GROUP BY t.index_name
      ORDER BY t.index_name`,
    [rolloutId, since],
  );
  return rows;
}

/**
 * Resolves what monitoring can prove: "used within 24 h" once every created index has scans since
 * sign-off; "unused after 30 days" at its due date if every index was scanned in the window. The
 * weekly review needs a person and simply comes due.
 */
export async function resolveFollowups(db: Pick<pg.Pool, "query">, now = new Date()): Promise<number> {
  const { rows: open } = await db.query<{ id: number; rolloutId: number; kind: FollowupKind; dueAt: Date; createdAt: Date }>(
    `SELECT f.id, f.rollout_id AS "rolloutId", f.kind, f.due_at AS "dueAt",
            f.due_at - make_interval(hours => CASE f.kind WHEN 'usage_24h' THEN 24 WHEN 'sustained_1w' THEN 168 ELSE 720 END) AS "createdAt"
       FROM followup f WHERE f.resolved_at IS NULL`,
  );
  let resolved = 0;
  for (const f of open) {
    if (f.kind === "sustained_1w") continue;
    if (f.kind === "unused_30d" && f.dueAt > now) continue;
    const scans = await scansSince(db, f.rolloutId, f.createdAt);
    if (scans.length && scans.every((s) => s.scans > 0)) {
      await db.query("UPDATE followup SET resolved_at = $2, evidence = $3 WHERE id = $1", [
        f.id,
        now,
        scans.map((s) => `${s.index}: ${s.scans} scans`).join(", "),
      ]);
      resolved++;
    }
  }
  return resolved;
}

export async function dueFollowups(
  db: Pick<pg.Pool, "query">,
  now = new Date(),
): Promise<Array<{ id: number; rolloutId: number; kind: FollowupKind; dueAt: Date; targetId: string }>> {
  const { rows } = await db.query<{ id: number; rolloutId: number; kind: FollowupKind; dueAt: Date; targetId: string }>(
    `SELECT f.id, f.rollout_id AS "rolloutId", f.kind, f.due_at AS "dueAt", r.target_id AS "targetId"
       FROM followup f JOIN rollout r ON r.id = f.rollout_id
      WHERE f.resolved_at IS NULL AND f.due_at <= $1
      ORDER BY f.due_at`,
    [now],
  );
  return rows;
}

export async function rolloutFollowups(db: Pick<pg.Pool, "query">, rolloutId: number) {
  const { rows } = await db.query<{ kind: FollowupKind; dueAt: Date; resolvedAt: Date | null; evidence: string | null }>(
    `SELECT kind, due_at AS "dueAt", resolved_at AS "resolvedAt", evidence FROM followup WHERE rollout_id = $1 ORDER BY due_at`,
    [rolloutId],
  );
  return rows;
}

/** The sign-off's "usage statistics collected" item: scans of each created index since it was verified. */
export async function usageEvidence(
  db: Pick<pg.Pool, "query">,
  rolloutId: number,
  since: Date,
): Promise<{ ok: boolean | null; evidence: string }> {
  const scans = await scansSince(db, rolloutId, since);
  if (!scans.length) return { ok: null, evidence: "no index created by this rollout" };
  const {
    rows: [{ n }],
  } = await db.query<{ n: number }>(
    "SELECT count(DISTINCT s.taken_at)::int AS n FROM usage_snapshot s JOIN rollout r ON r.target_id = s.target_id WHERE r.id = $1 AND s.taken_at >= $2",
    [rolloutId, since],
  );
  if (n < 2) return { ok: null, evidence: `not measured yet: ${n} usage snapshot(s) since verify (the collector needs two)` };
  return { ok: true, evidence: `${n} snapshots since verify; ${scans.map((s) => `${s.index}: ${s.scans} scans`).join(", ")}` };
}
