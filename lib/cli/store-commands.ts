import { parseArgs } from "node:util";
import { verifyAudit, verifyRows } from "../audit/verify";
import { readFile } from "node:fs/promises";
import type { AuditRow } from "../audit/log";
import { migrate } from "../store/migrator";
import { storePool } from "../store/pool";
import { UsageError, type Io } from "./io";

export async function migrateCommand(_argv: string[], io: Io): Promise<number> {
  const client = await storePool().connect();
  try {
    const { applied } = await migrate(client);
    io.out(applied.length ? `applied: ${applied.join(", ")}\n` : "store is up to date\n");
    return 0;
  } finally {
    client.release();
  }
}

export async function auditCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== "verify") throw new UsageError("usage: indexdeck audit verify [--json] [--file EXPORT.json]");
  const { values } = parseArgs({ args: rest, options: { json: { type: "boolean", default: false }, file: { type: "string" } } });
  const result = values.file ? await verifyExportFile(values.file) : await verifyAudit(storePool());
  if (values.json) io.out(JSON.stringify({ ok: result.ok, rows: result.rows, firstBadId: result.firstBadId }) + "\n");
  else io.out(result.ok ? `audit chain intact: ${result.rows} rows, head ${result.headHash ?? "(empty)"}\n` : `audit chain BROKEN at row ${result.firstBadId}: ${result.reason}\n`);
  return result.ok ? 0 : 1;
}

/** Checks a JSON export (GET /api/audit/export?format=json): every row's hash, and the links between consecutive ids. */
async function verifyExportFile(file: string) {
  let records: Array<Record<string, unknown>>;
  try {
    records = JSON.parse(await readFile(file, "utf8"));
  } catch (err) {
    throw new UsageError(`${file}: not a JSON export of the audit log (${(err as Error).message})`);
  }
  if (!Array.isArray(records)) throw new UsageError(`${file}: expected a JSON array of audit rows`);
  // Exports made before hash scheme 2 existed carry no scheme: all their rows are scheme 1.
  const rows = records.map((r) => ({ scheme: 1, contentHash: null, ...r, at: new Date(String(r.at)) }) as unknown as AuditRow);
  return verifyRows([rows], rows.length > 0 && rows[0].prevHash === "0".repeat(64));
}
