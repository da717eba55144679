import type pg from "pg";
import * as z from "zod";
import { AUDIT_COLUMNS, type AuditRow } from "./log";

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "must be YYYY-MM-DD")
  .transform((s) => new Date(`${s}T00:00:00Z`))
  .refine((d) => !Number.isNaN(d.getTime()), "not a date");

/** Filters as they arrive in a URL; anything malformed is a 400 with the field named, never a query. */
export const AuditFilter = z.object({
  target: z.string().max(63).optional(),
  actor: z.string().max(254).optional(),
  action: z
    .string()
    .regex(/^[a-z.]{1,60}$/, "letters and dots only")
    .optional(),
  from: day.optional(),
  to: day.optional(),
});
export type AuditFilter = z.infer<typeof AuditFilter>;

const WHERE = `
  ($1::text IS NULL OR target_id = $1)
  AND ($2::text IS NULL OR actor = $2)
  AND ($3::text IS NULL OR action = $3)
  AND ($4::timestamptz IS NULL OR at >= $4)
  AND ($5::timestamptz IS NULL OR at < $5 + interval '1 day')`;

function params(f: AuditFilter): unknown[] {
  return [f.target || null, f.actor || null, f.action || null, f.from ?? null, f.to ?? null];
}

/** Rows per page of the Audit screen: a view reads at most this many, however long the log is. */
export const AUDIT_PAGE_SIZE = 200;

/** Where a page of the Audit screen starts (`?before=ID`: rows older than that one), as it arrives in a URL. */
export const AuditPosition = z.object({
  before: z
    .string()
    .regex(/^[1-9]\d{0,15}$/, "a row id (whole number from 1)")
    .transform(Number)
    .optional(),
});

/**
 * One page of matching rows, newest first, older than `before` when given (keyset paging: a page
 * deep in the log costs what the first does). `limit` is capped at AUDIT_PAGE_SIZE.
 */
export async function searchAudit(
  db: Pick<pg.Pool, "query">,
  f: AuditFilter,
  page: { before?: number; limit?: number } = {},
): Promise<AuditRow[]> {
  const limit = Math.min(Math.max(1, page.limit ?? AUDIT_PAGE_SIZE), AUDIT_PAGE_SIZE);
  const { rows } = await db.query<AuditRow>(
    `SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE ${WHERE} AND ($6::bigint IS NULL OR id < $6) ORDER BY id DESC LIMIT $7`,
    [...params(f), page.before ?? null, limit],
  );
  return rows;
}

/** Every matching row in chain order, a page at a time: an export of 10^5 rows never sits in memory. */
export async function* auditRows(db: Pick<pg.Pool, "query">, f: AuditFilter, pageSize = 1000): AsyncGenerator<AuditRow> {
  let after = -1;
  for (;;) {
    const { rows } = await db.query<AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE ${WHERE} AND id > $6 ORDER BY id LIMIT $7`, [
      ...params(f),
      after,
      pageSize,
    ]);
    yield* rows;
    if (rows.length < pageSize) return;
    after = rows[rows.length - 1].id;
  }
}

export const EXPORT_FIELDS = [
  "id",
  "at",
  "actor",
  "role",
  "action",
  "targetId",
  "rolloutId",
  "changesetSha256",
  "details",
  "prevHash",
  "hash",
  "scheme",
  "contentHash",
  "mac",
] as const;

/** One row as a JSON object exactly as hashed (at in ISO-8601), so an exported file can be verified later. */
export function exportRecord(r: AuditRow): Record<string, unknown> {
  return {
    id: r.id,
    at: r.at.toISOString(),
    actor: r.actor,
    role: r.role,
    action: r.action,
    targetId: r.targetId,
    rolloutId: r.rolloutId,
    changesetSha256: r.changesetSha256,
    details: r.details,
    prevHash: r.prevHash,
    hash: r.hash,
    scheme: r.scheme,
    contentHash: r.contentHash,
    mac: r.mac,
  };
}

function csvCell(v: unknown): string {
  let s = v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
  // A cell starting with = + - @ is a formula to a spreadsheet: neutralise it for the people opening the file.
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

export function csvHeader(): string {
  return `${EXPORT_FIELDS.join(",")}\n`;
}

export function csvLine(r: AuditRow): string {
  const rec = exportRecord(r);
  return `${EXPORT_FIELDS.map((k) => csvCell(rec[k])).join(",")}\n`;
}
