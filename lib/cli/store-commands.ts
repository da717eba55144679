import { parseArgs } from "node:util";
import { verifyAudit, verifyRows, type VerifyResult } from "../audit/verify";
import { AnchorError, checkpointAudit, readAnchor } from "../audit/anchor";
import { AuditKeyError, auditKeyOrNull, requireAuditKey } from "../audit/key";
import { readFile } from "node:fs/promises";
import type { AuditRow } from "../audit/log";
import { MigrationError } from "../store/migrator";
import { storePool } from "../store/pool";
import { migrateStore, ONE_ROLE_WARNING, storeUrlsFromEnv } from "../store/roles";
import { UsageError, type Io } from "./io";

/** Migrates as DATABASE_OWNER_URL (or DATABASE_URL alone) and grants DATABASE_URL's role its rights. */
export async function migrateCommand(_argv: string[], io: Io): Promise<number> {
  let urls;
  try {
    urls = storeUrlsFromEnv();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  try {
    const { applied, separated } = await migrateStore(urls);
    io.out(applied.length ? `applied: ${applied.join(", ")}\n` : "store is up to date\n");
    if (!separated) io.err(`${ONE_ROLE_WARNING}\n`);
    return 0;
  } catch (err) {
    if (err instanceof MigrationError) throw new UsageError(err.message);
    throw err;
  }
}

const AUDIT_USAGE = `usage: indexdeck audit verify [--json] [--file EXPORT.json] [--anchor FILE]
       indexdeck audit checkpoint --anchor FILE
Signed rows are checked with INDEXDECK_AUDIT_KEY; --anchor (which needs the key) also checks the chain
against the checkpoints in FILE, and checkpoint appends the verified head to FILE.`;

export async function auditCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== "verify" && sub !== "checkpoint") throw new UsageError(AUDIT_USAGE);
  const { values } = parseArgs({
    args: rest,
    options: { json: { type: "boolean", default: false }, file: { type: "string" }, anchor: { type: "string" } },
  });
  try {
    if (sub === "checkpoint") return await checkpointCommand(values.anchor, io);
    const key = values.anchor ? requireAuditKey() : auditKeyOrNull();
    const anchor = values.anchor ? await readAnchor(values.anchor, key!) : [];
    const result = values.file ? await verifyExportFile(values.file, key) : await verifyAudit(storePool(), null, { key, anchor });
    if (values.json) {
      io.out(
        JSON.stringify({
          ok: result.ok,
          rows: result.rows,
          firstBadId: result.firstBadId,
          reason: result.reason,
          signaturesChecked: result.signaturesChecked,
          checkpoints: anchor.length,
        }) + "\n",
      );
    } else io.out(verdictLine(result, anchor.length));
    return result.ok ? 0 : 1;
  } catch (err) {
    if (err instanceof AnchorError || err instanceof AuditKeyError) throw new UsageError(err.message);
    throw err;
  }
}

function verdictLine(result: VerifyResult, checkpoints: number): string {
  if (!result.ok) return `audit chain BROKEN at row ${result.firstBadId}: ${result.reason}\n`;
  const checked = [
    result.signaturesChecked ? "signatures checked" : "signatures NOT checked (INDEXDECK_AUDIT_KEY is not set)",
    checkpoints ? `${checkpoints} checkpoint(s) matched` : "no anchor given (--anchor FILE)",
  ];
  return `audit chain intact: ${result.rows} rows, head ${result.headHash ?? "(empty)"}; ${checked.join("; ")}\n`;
}

/** Verifies the whole chain against FILE's checkpoints and, if it holds, appends its head there (for cron). */
async function checkpointCommand(file: string | undefined, io: Io): Promise<number> {
  if (!file) throw new UsageError("audit checkpoint needs --anchor FILE");
  const { result, checkpoint } = await checkpointAudit(storePool(), file, requireAuditKey());
  if (!result.ok) {
    io.out(`${verdictLine(result, 0)}no checkpoint written\n`);
    return 1;
  }
  io.out(checkpoint ? `checkpoint: row ${checkpoint.id}, hash ${checkpoint.hash}\n` : "the chain is empty: nothing to anchor\n");
  return 0;
}

/** Checks a JSON export (GET /api/audit/export?format=json): every row's hash, and the links between consecutive ids. */
async function verifyExportFile(file: string, key: Buffer | null) {
  let records: Array<Record<string, unknown>>;
  try {
    records = JSON.parse(await readFile(file, "utf8"));
  } catch (err) {
    throw new UsageError(`${file}: not a JSON export of the audit log (${(err as Error).message})`);
  }
  if (!Array.isArray(records)) throw new UsageError(`${file}: expected a JSON array of audit rows`);
  // Exports made before hash scheme 2 existed carry no scheme: all their rows are scheme 1.
  const rows = records.map((r) => ({ scheme: 1, contentHash: null, mac: null, ...r, at: new Date(String(r.at)) }) as unknown as AuditRow);
  return verifyRows([rows], rows.length > 0 && rows[0].prevHash === "0".repeat(64), null, { key });
}
