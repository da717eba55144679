import { describe, expect, it } from "vitest";
import pg from "pg";
import { freshDatabase, pgServers } from "../testing/db";
import { createRollout, getRollout } from "./rollouts";
import { DBA, uploadChangeSet } from "./testing";
import { decideRollout } from "./approvals";
import { buildRolloutReport, md, reportMarkdown, ReportError, ROLLOUT_AUDIT_ROWS_SQL, SharedReports, visibleRollout } from "./report";
import { parseTargetsFile } from "../targets/config";
import { appendAudit } from "../audit/log";
import { withTransaction } from "../store/pool";
import { signOff } from "./signoff";
import { fixedTargets } from "../targets/source";

describe("Markdown escaping", () => {
  it("turns user text into inert text: no HTML, links, emphasis or table breaks", () => {
    expect(md("<script>x</script> [a](http://e) *b* | c")).toBe("&lt;script&gt;x&lt;/script&gt; \\[a\\](http://e) \\*b\\* \\| c");
    expect(md("line1\nline2")).toBe("line1 line2");
  });
});

describe.each(pgServers())("rollout report on $name PostgreSQL", (server) => {
  it("reports an unfinished rollout with what is missing, and escapes user comments", async () => {
    const pool = new pg.Pool({ connectionString: await freshDatabase(server) });
    const targets = parseTargetsFile(
      JSON.stringify({
        targets: [{ id: "s", label: "S", environment: "staging", url: "postgres://x@127.0.0.1:1/x", approvals: { required: 1 } }],
      }),
      "t.json",
    );
    const r = await createRollout(
      pool,
      fixedTargets(targets),
      { changesetId: await uploadChangeSet(pool, "rep.sql", "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (x);\n"), targetId: "s" },
      { ...DBA, email: "sre", role: "sre" },
    );
    await decideRollout(pool, fixedTargets(targets), r.id, DBA, {
      decision: "reject",
      comment: "<img src=x onerror=alert(1)> | nope",
      changesetSha256: r.changesetSha256,
      targetId: "s",
    });
    const text = reportMarkdown(await buildRolloutReport(pool, r.id, "manager"));
    expect(text).toContain("## Pre-check\n\nNot run.");
    expect(text).toContain("- **Lint:** 0 errors, 2 warnings (require-lock-timeout, require-statement-timeout)");
    expect(text).toContain("## p95 before / after (measured)\n\nNot measured.");
    expect(text).toContain("Not signed off.");
    expect(text).toContain("&lt;img src=x onerror=alert(1)&gt; \\| nope");
    expect(text).not.toContain("<img");
    expect(text).toMatch(/Chain verdict at export: \*\*intact \(\d+ rows\)\*\*/);
    await expect(buildRolloutReport(pool, 999999, "manager")).rejects.toThrow(ReportError);
    await pool.end();
  });
});

describe.each(pgServers())("who reads what in the rollout report on $name PostgreSQL", (server) => {
  // An override, a sign-off with notes and the audit trail are governance records: README's roles table
  // gives them to managers (and dba/sre/admin), not to engineers.
  it("shows the audit trail, overrides and sign-off notes to a manager and none of them to an engineer", async () => {
    const pool = new pg.Pool({ connectionString: await freshDatabase(server) });
    const targets = parseTargetsFile(
      JSON.stringify({
        targets: [{ id: "s", label: "S", environment: "staging", url: "postgres://x@127.0.0.1:1/x", approvals: { required: 0 } }],
      }),
      "t.json",
    );
    const r = await createRollout(
      pool,
      fixedTargets(targets),
      { changesetId: await uploadChangeSet(pool, "gov.sql", "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (x);\n"), targetId: "s" },
      DBA,
    );
    await withTransaction(pool, (tx) =>
      appendAudit(tx, {
        actor: "dba",
        role: "dba",
        action: "rollout.window.override",
        targetId: "s",
        rolloutId: r.id,
        details: { reason: "override-reason-7f3a" },
      }),
    );
    // The pre-check as lib/rollout/precheck.ts records an override: a warn naming who and why.
    const precheck = {
      at: new Date().toISOString(),
      ok: true,
      checks: [
        {
          id: "maintenance-window",
          title: "Maintenance window",
          status: "warn",
          summary: "outside the maintenance window; overridden by dba: override-reason-7f3a",
        },
        { id: "backup", title: "Backup", status: "pass", summary: "attested backup id snap-1" },
      ],
    };
    await pool.query("UPDATE rollout SET state = 'prechecked', precheck = $2 WHERE id = $1", [r.id, precheck]);
    // Verified as the engine would leave it, so that a real sign-off can be recorded.
    await pool.query("UPDATE rollout SET state = 'verified' WHERE id = $1", [r.id]);
    await signOff(pool, r.id, DBA, {
      decision: "signed_off",
      notes: "signoff-notes-91c2",
      attested: [],
      changesetSha256: r.changesetSha256,
    });

    const manager = reportMarkdown(await buildRolloutReport(pool, r.id, "manager"));
    expect(manager).toContain("override-reason-7f3a");
    expect(manager).toContain("signoff-notes-91c2");
    expect(manager).toMatch(/## Audit trail\n\nChain verdict at export: \*\*intact/);
    expect(manager).toMatch(/\| rollout\.window\.override \| `[0-9a-f]{64}` \|/);

    const report = await buildRolloutReport(pool, r.id, "engineer");
    expect(report.governance).toBeNull();
    expect(report.signoffs.map((s) => [s.decision, s.notes, s.auditHash])).toEqual([["signed_off", null, null]]);
    const engineer = reportMarkdown(report);
    expect(engineer).not.toContain("override-reason-7f3a");
    expect(engineer).not.toContain("signoff-notes-91c2");
    expect(engineer).not.toMatch(/[0-9a-f]{64}`? \|/);
    expect(engineer).not.toContain("rollout.window.override");
    expect(engineer).toContain("**signed off** by dba (dba)");
    expect(engineer).toContain(
      "| Maintenance window | warn | overridden or waived in writing; Not shown: role engineer may not read the audit log (audit:read). |",
    );
    expect(engineer).toContain("| Backup | pass | attested backup id snap-1 |");
    // The rollout's own page shows the same pre-check.
    const stored = (await getRollout(pool, r.id))!;
    expect(visibleRollout(stored, "manager")).toBe(stored);
    expect(JSON.stringify(visibleRollout(stored, "engineer"))).not.toContain("override-reason-7f3a");
    expect(engineer).toContain("## Audit trail\n\nNot shown: role engineer may not read the audit log (audit:read).");
    await pool.end();
  });
});

describe.each(pgServers())("the report's chain verdict on $name PostgreSQL", (server) => {
  // A report is a page anyone may reload: recomputing the whole chain for each one made 50 concurrent
  // reports cost 50 whole verifies. It shows the verdict the Audit page shows (lib/audit/recent-verdict.ts),
  // one whole run a minute per app server, and says how old that run is.
  it("shares one whole-chain run between reports, says when it ran, and still counts rows written since", async () => {
    const pool = new pg.Pool({ connectionString: await freshDatabase(server) });
    const targets = parseTargetsFile(
      JSON.stringify({
        targets: [{ id: "s", label: "S", environment: "staging", url: "postgres://x@127.0.0.1:1/x", approvals: { required: 0 } }],
      }),
      "t.json",
    );
    const r = await createRollout(
      pool,
      fixedTargets(targets),
      { changesetId: await uploadChangeSet(pool, "chain.sql", "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (x);\n"), targetId: "s" },
      DBA,
    );
    const first = await buildRolloutReport(pool, r.id, "manager");
    await withTransaction(pool, (tx) =>
      appendAudit(tx, { actor: "dba", role: "dba", action: "rollout.note", rolloutId: r.id, details: {} }),
    );
    const second = await buildRolloutReport(pool, r.id, "manager");
    expect(first.governance!.chain.wholeChainAt).toBeInstanceOf(Date);
    expect(second.governance!.chain.wholeChainAt).toEqual(first.governance!.chain.wholeChainAt);
    expect(second.governance!.chain).toMatchObject({ ok: true, rows: first.governance!.chain.rows + 1, firstBadId: null });
    const text = reportMarkdown(second);
    expect(text).toContain(
      `Chain verdict at export: **intact (${second.governance!.chain.rows} rows)**; the whole chain was last recomputed at `,
    );
    await pool.end();
  });
});

describe.each(pgServers())("the report's audit trail on $name PostgreSQL", (server) => {
  // Each report reads its rollout's audit rows: by index, so its cost doesn't grow with the whole log.
  it("reads a rollout's audit rows through an index, not by scanning the whole log", async () => {
    const pool = new pg.Pool({ connectionString: await freshDatabase(server) });
    await withTransaction(pool, async (tx) => {
      for (let i = 0; i < 3000; i++)
        await appendAudit(tx, { actor: "dba", role: "dba", action: "rollout.approve", rolloutId: null, details: { i } });
    });
    await pool.query("ANALYZE audit_log");
    const {
      rows: [
        {
          "QUERY PLAN": [plan],
        },
      ],
    } = await pool.query(`EXPLAIN (FORMAT JSON) ${ROLLOUT_AUDIT_ROWS_SQL}`, [42]);
    expect(JSON.stringify(plan)).toContain('"Index Name":"audit_log_rollout"');
    expect(JSON.stringify(plan)).not.toContain('"Node Type":"Seq Scan"');
    await pool.end();
  });
});

describe.each(pgServers())("reports asked for at once on $name PostgreSQL", (server) => {
  // Fifty requests for one report at the same moment are one report: built once and handed to all,
  // and built again for whoever asks after `maxAgeMs`, or with another role.
  it("builds one report for concurrent askers of the same rollout and role, and a fresh one afterwards", async () => {
    const pool = new pg.Pool({ connectionString: await freshDatabase(server) });
    const targets = parseTargetsFile(
      JSON.stringify({
        targets: [{ id: "s", label: "S", environment: "staging", url: "postgres://x@127.0.0.1:1/x", approvals: { required: 0 } }],
      }),
      "t.json",
    );
    const r = await createRollout(
      pool,
      fixedTargets(targets),
      { changesetId: await uploadChangeSet(pool, "shared.sql", "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (x);\n"), targetId: "s" },
      DBA,
    );
    const shared = new SharedReports(200);
    const burst = await Promise.all(Array.from({ length: 20 }, () => shared.get(pool, r.id, "manager")));
    expect(new Set(burst).size).toBe(1);
    expect(shared.builds).toBe(1);
    const engineer = await shared.get(pool, r.id, "engineer");
    expect(engineer.governance).toBeNull();
    expect(shared.builds).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 250));
    const later = await shared.get(pool, r.id, "manager");
    expect(later).not.toBe(burst[0]);
    expect(later.generatedAt.getTime()).toBeGreaterThan(burst[0].generatedAt.getTime());
    expect(shared.builds).toBe(3);
    await expect(shared.get(pool, 999999, "manager")).rejects.toThrow(ReportError);
    await pool.end();
  });
});

describe.each(pgServers())("the report's build timeline on $name PostgreSQL", (server) => {
  it("lists each statement's phases with their durations, a wait for old snapshots named as a wait", async () => {
    const pool = new pg.Pool({ connectionString: await freshDatabase(server) });
    const targets = parseTargetsFile(
      JSON.stringify({
        targets: [{ id: "s", label: "S", environment: "staging", url: "postgres://x@127.0.0.1:1/x", approvals: { required: 0 } }],
      }),
      "t.json",
    );
    const sql = "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (x);\n";
    const r = await createRollout(
      pool,
      fixedTargets(targets),
      { changesetId: await uploadChangeSet(pool, "tl.sql", sql), targetId: "s" },
      DBA,
    );
    const at = (ms: number) => new Date(Date.UTC(2026, 10, 30, 12, 0, 0, ms));
    const progress = (phase: string) => ({
      index: "i",
      phase,
      percent: 50,
      blocksDone: 0,
      blocksTotal: 0,
      tuplesDone: 0,
      tuplesTotal: 0,
      lockersDone: 0,
      lockersTotal: 1,
      currentLockerPid: null,
      waitEventType: null,
      waitEvent: null,
      blockers: [],
    });
    // Stored with their own times, as the apply's sink would have written them.
    const events = [
      [at(0), "statement_start", { line: 2, statement: "CREATE INDEX …", attempt: 1 }],
      [at(250), "progress", progress("building index: scanning table")],
      [at(2_250), "progress", progress("waiting for old snapshots")],
      [at(65_250), "index_ready", { index: "i", bytes: 8192, definition: null }],
    ] as const;
    for (const [when, kind, data] of events)
      await pool.query("INSERT INTO rollout_event (rollout_id, kind, task_seq, data, at) VALUES ($1, $2, 1, $3, $4)", [
        r.id,
        kind,
        data,
        when,
      ]);

    const report = await buildRolloutReport(pool, r.id, "manager");
    expect(report.builds.map((t) => t.segments.map((s) => s.wait))).toEqual([[], [null, null, "transactions"]]);
    const text = reportMarkdown(report);
    expect(text).toContain(
      "## Build timeline\n\n1. SET lock\\_timeout = '2s': no build phases recorded\n" +
        "2. i: starting: 250 ms; building index: scanning table: 2.0 s; waiting for old snapshots: 1 min 03 s — waiting for other transactions\n",
    );
    await pool.end();
  });
});
