import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type pg from "pg";
import * as z from "zod";
import { appendAudit, auditActor } from "../audit/log";
import type { Actor } from "../auth/policy";
import { withTransaction } from "../store/pool";
import { MAX_WORKLOAD_BYTES, parseWorkloads, workloadsText, WORKLOAD_DIR, type Workload } from "../rollout/workloads";
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
  /** The query patterns it is meant to speed up (lib/rollout/workloads.ts's format), "" for none. */
  workloads: string;
  createdBy: string | null;
  createdAt: Date | null;
}

export function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/**
 * A change set's identity: its SQL and its query patterns hashed together, so approvals bind both and
 * apply's re-check covers both. Without query patterns it is the SQL's own sha256 (as before they
 * were part of a change set); with them, the hash of an unambiguous encoding of the pair.
 */
export function changeSetDigest(sql: string, workloads: string): string {
  return workloads === "" ? sha256(sql) : sha256(JSON.stringify({ sql, workloads }));
}

/** A change set of sql/indexes/ with its query patterns from sql/workloads/<same name>. */
async function repositoryChangeSet(name: string, dir: string, workloadDir: string): Promise<ChangeSet> {
  const [sql, workloads] = await Promise.all([
    readFile(path.join(dir, name)).then((b) => decodeChangeSet(name, b)),
    workloadsText(name, workloadDir),
  ]);
  return {
    id: `file:${name}`,
    name,
    source: "repository",
    sha256: changeSetDigest(sql, workloads),
    sql,
    workloads,
    createdBy: null,
    createdAt: null,
  };
}

const STORED_CHANGE_SET = `id,
              name,
              sha256,
              sql,
              workloads,
              created_by  AS "createdBy",
              created_at  AS "createdAt"
         FROM change_set`;

type StoredRow = Omit<ChangeSet, "id" | "source" | "createdBy" | "createdAt"> & { id: number; createdBy: string; createdAt: Date };

/** Change sets in sql/indexes/ (id `file:<name>`) and those uploaded to the store (id `db:<id>`). */
export async function listChangeSets(db: Pick<pg.Pool, "query">, dir = CHANGESET_DIR, workloadDir = WORKLOAD_DIR): Promise<ChangeSet[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith(".sql")).sort();
  const files = await Promise.all(names.map((name) => repositoryChangeSet(name, dir, workloadDir)));
  const { rows } = await db.query<StoredRow>(`SELECT ${STORED_CHANGE_SET} ORDER BY id DESC`);
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
  workloadDir = WORKLOAD_DIR,
): Promise<ChangeSetListPage> {
  const names = (await readdir(dir)).filter((n) => n.endsWith(".sql")).sort();
  const start = (page - 1) * pageSize;
  const fileNames = names.slice(start, start + pageSize);
  const files = await Promise.all(fileNames.map((name) => repositoryChangeSet(name, dir, workloadDir)));
  const uploadOffset = Math.max(0, start - names.length);
  const [
    { rows },
    {
      rows: [count],
    },
  ] = await Promise.all([
    db.query<StoredRow>(
      `SELECT ${STORED_CHANGE_SET}
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
  workloads: z
    .string()
    .refine((s) => Buffer.byteLength(s, "utf8") <= MAX_WORKLOAD_BYTES, `workloads: over the ${MAX_WORKLOAD_BYTES / 1024} KiB limit`)
    .refine((s) => !s.includes("\0"), "workloads: contains a NUL byte; query patterns are text")
    .default(""),
});

export class ChangeSetExistsError extends Error {}

/**
 * The query patterns of a change set, each a read-only SELECT naming an index the change set creates;
 * a WorkloadError (file:line:column and what) otherwise. Called where a change set enters indexdeck.
 */
export function checkWorkloads(name: string, workloads: string, report: Pick<FileReport, "indexes">): Promise<Workload[]> {
  return parseWorkloads(`${name} (query patterns)`, workloads, { indexes: report.indexes });
}

/** Stores an uploaded change set and its query patterns with their sha256 and an audit row, after linting both. */
export async function createChangeSet(
  pool: pg.Pool,
  input: z.input<typeof UploadChangeSet>,
  actor: Actor,
): Promise<{ changeSet: ChangeSet; report: FileReport }> {
  const workloads = input.workloads ?? "";
  const report = await lintText({ file: input.name, text: input.sql });
  const patterns = await checkWorkloads(input.name, workloads, report);
  const digest = changeSetDigest(input.sql, workloads);
  try {
    const changeSet = await withTransaction(pool, async (tx) => {
      const {
        rows: [row],
      } = await tx.query<{ id: number; createdAt: Date }>(
        `INSERT INTO change_set (name, sha256, sql, workloads, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING id, created_at AS "createdAt"`,
        [input.name, digest, input.sql, workloads, actor.email],
      );
      await appendAudit(tx, {
        ...auditActor(actor),
        action: "changeset.create",
        changesetSha256: digest,
        details: {
          name: input.name,
          statements: report.statements,
          errors: report.findings.filter((f) => f.severity === "error").length,
          workloads: patterns.map((w) => w.name),
        },
      });
      return {
        id: `db:${row.id}`,
        name: input.name,
        source: "uploaded" as const,
        sha256: digest,
        sql: input.sql,
        workloads,
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
export async function getChangeSet(
  db: Pick<pg.Pool, "query">,
  id: string,
  dir = CHANGESET_DIR,
  workloadDir = WORKLOAD_DIR,
): Promise<ChangeSet | null> {
  const file = /^file:([A-Za-z0-9_.-]+\.sql)$/.exec(id);
  if (file) {
    try {
      return await repositoryChangeSet(file[1], dir, workloadDir);
    } catch {
      return null;
    }
  }
  const dbId = /^db:(\d{1,15})$/.exec(id);
  if (!dbId) return null;
  const {
    rows: [r],
  } = await db.query<StoredRow>(`SELECT ${STORED_CHANGE_SET} WHERE id = $1`, [Number(dbId[1])]);
  return r ? { ...r, id, source: "uploaded" } : null;
}
