import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../cli/testing";
import { withTransaction } from "../store/pool";
import { freshDatabase, pgServers } from "../testing/db";
import { appendAudit, type AuditRow } from "./log";
import { AUDIT_PAGE_SIZE, AuditFilter, AuditPosition, auditRows, csvLine, exportRecord, searchAudit } from "./query";

describe.each(pgServers())("audit search and export on $name PostgreSQL", (server) => {
  let pool: pg.Pool;
  let url: string;
  beforeAll(async () => {
    url = await freshDatabase(server);
    pool = new pg.Pool({ connectionString: url });
    for (let i = 0; i < 2500; i++) {
      await withTransaction(pool, (tx) =>
        appendAudit(tx, {
          actor: i % 2 ? "dba" : "sre",
          role: "dba",
          action: i % 5 ? "rollout.approve" : "rollout.signoff",
          targetId: i % 3 ? "prod" : "stage",
          details: { i, comment: i === 7 ? '=HYPERLINK("http://evil")' : "ok" },
        }),
      );
    }
    return () => pool.end();
  });

  it("filters by target, person and action", async () => {
    const rows = await searchAudit(pool, { target: "stage", actor: "dba", action: "rollout.signoff" });
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.targetId === "stage" && r.actor === "dba" && r.action === "rollout.signoff")).toBe(true);
  });

  // The Audit page reads one bounded page per view, however long the log grows or whatever is asked.
  it("lists at most 200 rows a page, newest first, and the next page from where the last one ended", async () => {
    const first = await searchAudit(pool, {}, { limit: 100_000 });
    expect(first).toHaveLength(AUDIT_PAGE_SIZE);
    expect(AUDIT_PAGE_SIZE).toBe(200);
    const {
      rows: [{ max }],
    } = await pool.query("SELECT max(id) AS max FROM audit_log");
    expect(first[0].id).toBe(Number(max));
    const last = first[first.length - 1].id;
    const second = await searchAudit(pool, { actor: "dba" }, { before: last });
    expect(second).toHaveLength(AUDIT_PAGE_SIZE);
    expect(second[0].id).toBeLessThan(last);
    expect(second.every((r, i) => r.actor === "dba" && (i === 0 || r.id < second[i - 1].id))).toBe(true);
    expect(await searchAudit(pool, {}, { before: 1 })).toEqual([]);
  });

  it("refuses a page position that is not a row id, naming it", () => {
    expect(AuditPosition.safeParse({ before: "abc" }).error!.issues[0]).toMatchObject({
      path: ["before"],
      message: "a row id (whole number from 1)",
    });
    expect(AuditPosition.parse({ before: "42" })).toEqual({ before: 42 });
    expect(AuditPosition.parse({})).toEqual({});
  });

  it("rejects garbage filters with the field named", () => {
    const r = AuditFilter.safeParse({ from: "yesterday", action: "x; DROP TABLE" });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path[0]).sort()).toEqual(["action", "from"]);
  });

  it("streams every row in pages and neutralises spreadsheet formulas in CSV", async () => {
    let n = 0;
    let last = 0;
    let evil: AuditRow | undefined;
    for await (const row of auditRows(pool, {}, 400)) {
      expect(row.id).toBeGreaterThan(last);
      last = row.id;
      n++;
      if ((row.details as { i: number }).i === 7) evil = row;
    }
    expect(n).toBe(2500);
    if (!evil) throw new Error("row 7 was not streamed");
    // Inside a JSON cell a formula is inert text; a cell that starts with = gets an apostrophe.
    expect(csvLine(evil)).toContain(`""=HYPERLINK(\\""http://evil\\"")""`);
    expect(csvLine({ ...evil, actor: "=cmd|' /C calc'!A0" })).toContain(`"'=cmd|' /C calc'!A0"`);
  });

  it("exports JSON that `audit verify --file` accepts, and catches an edit in the file", async () => {
    const rows = [];
    for await (const r of auditRows(pool, {})) rows.push(exportRecord(r));
    const dir = await mkdtemp(path.join(tmpdir(), "export-"));
    const good = path.join(dir, "good.json");
    await writeFile(good, JSON.stringify(rows));
    const ok = await runCli(["audit", "verify", "--file", good, "--json"]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ ok: true, rows: 2500, firstBadId: null, signaturesChecked: true });
    (rows[100].details as { comment: string }).comment = "edited";
    const bad = path.join(dir, "bad.json");
    await writeFile(bad, JSON.stringify(rows));
    const r = await runCli(["audit", "verify", "--file", bad, "--json"]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).firstBadId).toBe(rows[100].id);
  });
});
