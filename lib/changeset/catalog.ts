import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type pg from "pg";
import { z } from "zod";
import { appendAudit, auditActor } from "../audit/log";
import type { Actor } from "../auth/policy";
import { withTransaction } from "../store/pool";
import { decodeChangeSet } from "./files";
import { lintText, type FileReport } from "./lint";

export const CHANGESET_DIR = path.join(process.cwd(), "sql", "indexes");
export const MAX_UPLOAD_BYTES = 1024 * 1024;

export interface ChangeSet {
  id: string;
  name: string;
  source: "repository" | "uploaded";
  sha256: string;
  sql: string;
  createdBy: string | null;
  createdAt: Date | null;
}

export function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** Change sets in sql/indexes/ (id `file:<name>`) and those uploaded to the store (id `db:<id>`). */
export async function listChangeSets(db: Pick<pg.Pool, "query">, dir = CHANGESET_DIR): Promise<ChangeSet[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith(".sql")).sort();
  const files = await Promise.all(
    names.map(async (name): Promise<ChangeSet> => {
      const sql = decodeChangeSet(name, await readFile(path.join(dir, name)));
      return { id: `file:${name}`, name, source: "repository", sha256: sha256(sql), sql, createdBy: null, createdAt: null };
    }),
  );
  const { rows } = await db.query<{ id: number; name: string; sha256: string; sql: string; createdBy: string; createdAt: Date }>(
    `SELECT id, name, sha256, sql, created_by AS "createdBy", created_at AS "createdAt" FROM change_set ORDER BY id DESC`,
  );
  return [...files, ...rows.map((r) => ({ ...r, id: `db:${r.id}`, source: "uploaded" as const }))];
}

/** Change sets per page of the Change sets screen: each is read and linted on its view. */
export const CHANGESET_PAGE_SIZE = 25;

/** A page number as it arrives in a URL (`?page=`): absent is the first page. */
export const ChangeSetPage = z
  .string()
  .regex(/^[1-9]\d{0,5}$/, "page: a whole number from 1 to 100000")
  .transform(Number)
  .refine((n) => n <= 100_000, "page: a whole number from 1 to 100000")
  .optional()
  .transform((n) => n ?? 1);

export interface ChangeSetListPage {
  changeSets: ChangeSet[];
  page: number;
  pageSize: number;
  pages: number;
  total: number;
}

/**
 * One page of the list listChangeSets returns (repository files, then uploads newest first), read
 * page by page from the store: a view costs one page, however many change sets were ever uploaded.
 */
export async function listChangeSetPage(
  db: Pick<pg.Pool, "query">,
  page: number,
  dir = CHANGESET_DIR,
  pageSize = CHANGESET_PAGE_SIZE,
): Promise<ChangeSetListPage> {
  const names = (await readdir(dir)).filter((n) => n.endsWith(".sql")).sort();
  const start = (page - 1) * pageSize;
  const fileNames = names.slice(start, start + pageSize);
  const files = await Promise.all(
    fileNames.map(async (name): Promise<ChangeSet> => {
      const sql = decodeChangeSet(name, await readFile(path.join(dir, name)));
      return { id: `file:${name}`, name, source: "repository", sha256: sha256(sql), sql, createdBy: null, createdAt: null };
    }),
  );
  const uploadOffset = Math.max(0, start - names.length);
  const [
    { rows },
    {
      rows: [count],
    },
  ] = await Promise.all([
    db.query<{ id: number; name: string; sha256: string; sql: string; createdBy: string; createdAt: Date }>(
      `SELECT id,
              name,
              sha256,
              sql,
              created_by  AS "createdBy",
              created_at  AS "createdAt"
         FROM change_set
        ORDER BY id DESC
       OFFSET $1
        LIMIT $2`,
      [uploadOffset, pageSize - files.length],
    ),
    db.query<{ uploaded: string }>("SELECT count(*) AS uploaded FROM change_set"),
  ]);
  const uploads = rows.map((r) => ({ ...r, id: `db:${r.id}`, source: "uploaded" as const }));
  const uploaded = Number(count.uploaded);
  const total = names.length + uploaded;
  return { changeSets: [...files, ...uploads], page, pageSize, pages: Math.max(1, Math.ceil(total / pageSize)), total };
}

export const UploadChangeSet = z.object({
  name: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_.-]{1,100}$/, "name: 1-100 letters, digits, '.', '_' or '-'"),
  sql: z
    .string()
    .min(1, "sql: the change set is empty")
    .refine((s) => Buffer.byteLength(s, "utf8") <= MAX_UPLOAD_BYTES, `sql: over the ${MAX_UPLOAD_BYTES / 1024} KiB upload limit`)
    .refine((s) => !s.includes("\0"), "sql: contains a NUL byte; a change set is text"),
});

export class ChangeSetExistsError extends Error {}

/** Stores an uploaded change set with its sha256 and an audit row, after linting it. */
export async function createChangeSet(
  pool: pg.Pool,
  input: z.infer<typeof UploadChangeSet>,
  actor: Actor,
): Promise<{ changeSet: ChangeSet; report: FileReport }> {
  const report = await lintText({ file: input.name, text: input.sql });
  const digest = sha256(input.sql);
  try {
    const changeSet = await withTransaction(pool, async (tx) => {
      const {
        rows: [row],
      } = await tx.query<{ id: number; createdAt: Date }>(
        `INSERT INTO change_set (name, sha256, sql, created_by) VALUES ($1, $2, $3, $4) RETURNING id, created_at AS "createdAt"`,
        [input.name, digest, input.sql, actor.email],
      );
      await appendAudit(tx, {
        ...auditActor(actor),
        action: "changeset.create",
        changesetSha256: digest,
        details: { name: input.name, statements: report.statements, errors: report.findings.filter((f) => f.severity === "error").length },
      });
      return {
        id: `db:${row.id}`,
        name: input.name,
        source: "uploaded" as const,
        sha256: digest,
        sql: input.sql,
        createdBy: actor.email,
        createdAt: row.createdAt,
      };
    });
    return { changeSet, report };
  } catch (err) {
    if ((err as { code?: string }).code === "23505")
      throw new ChangeSetExistsError(`a change set with sha256 ${digest.slice(0, 12)}… exists already`);
    throw err;
  }
}

/** One change set by id (`file:<name>` or `db:<n>`), or null. */
export async function getChangeSet(db: Pick<pg.Pool, "query">, id: string, dir = CHANGESET_DIR): Promise<ChangeSet | null> {
  const file = /^file:([A-Za-z0-9_.-]+\.sql)$/.exec(id);
  if (file) {
    try {
      const sql = decodeChangeSet(file[1], await readFile(path.join(dir, file[1])));
      return { id, name: file[1], source: "repository", sha256: sha256(sql), sql, createdBy: null, createdAt: null };
    } catch {
      return null;
    }
  }
  const dbId = /^db:(\d{1,15})$/.exec(id);
  if (!dbId) return null;
  const {
    rows: [r],
  } = await db.query<{ id: number; name: string; sha256: string; sql: string; createdBy: string; createdAt: Date }>(
    `SELECT id, name, sha256, sql, created_by AS "createdBy", created_at AS "createdAt" FROM change_set WHERE id = $1`,
    [Number(dbId[1])],
  );
  return r ? { ...r, id, source: "uploaded" } : null;
}
