import { describe, expect, it } from "vitest";
import pg from "pg";
import { freshDatabase, pgServers } from "../testing/db";
import { createRollout } from "../rollout/rollouts";
import { DBA, uploadChangeSet } from "../rollout/testing";
import { decideRollout } from "../rollout/approvals";
import { buildRolloutReport, md, reportMarkdown, ReportError } from "./rollout-report";
import { parseTargetsFile } from "../targets/config";

describe("Markdown escaping", () => {
  it("turns user text into inert text: no HTML, links, emphasis or table breaks", () => {
    expect(md("<script>x</script> [a](http://e) *b* | c")).toBe("&lt;script&gt;x&lt;/script&gt; \\[a\\](http://e) \\*b\\* \\| c");
    expect(md("line1\nline2")).toBe("line1 line2");
  });
});

describe.each(pgServers())("rollout report on $name PostgreSQL", (server) => {
  it("reports an unfinished rollout with what is missing, and escapes user comments", async () => {
    const pool = new pg.Pool({ connectionString: await freshDatabase(server) });
    const targets = parseTargetsFile(JSON.stringify({ targets: [{ id: "s", label: "S", environment: "staging", url: "postgres://x@127.0.0.1:1/x", approvals: { required: 1 } }] }), "t.json");
    const r = await createRollout(pool, targets, { changesetId: await uploadChangeSet(pool, "rep.sql", "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (x);\n"), targetId: "s" }, { ...DBA, email: "sre", role: "sre" });
    await decideRollout(pool, targets, r.id, DBA, { decision: "reject", comment: "<img src=x onerror=alert(1)> | nope", changesetSha256: r.changesetSha256, targetId: "s" });
    const text = reportMarkdown(await buildRolloutReport(pool, r.id));
    expect(text).toContain("## Pre-check\n\nNot run.");
    expect(text).toContain("- **Lint:** 0 errors, 2 warnings (require-lock-timeout, require-statement-timeout)");
    expect(text).toContain("## p95 before / after (measured)\n\nNot measured.");
    expect(text).toContain("Not signed off.");
    expect(text).toContain("&lt;img src=x onerror=alert(1)&gt; \\| nope");
    expect(text).not.toContain("<img");
    expect(text).toMatch(/Chain verdict at export: \*\*intact \(\d+ rows\)\*\*/);
    await expect(buildRolloutReport(pool, 999999)).rejects.toThrow(ReportError);
    await pool.end();
  });
});
