import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { loadModule, parseSync } from "libpg-query";
import { beforeAll, describe, expect, it } from "vitest";

// "Nothing writes rollout.state or rollout.error but the machine" (issue 17): every SQL string in lib/
// and app/ is parsed, and an UPDATE or INSERT of the rollout table that sets one of those columns
// fails this test unless it is listed here with why.

const ROOT = path.join(import.meta.dirname, "../..");
const GUARDED = new Set(["state", "error", "error_code"]);

const ALLOWED: Record<string, string> = {
  // The machine's one UPDATE (move): every phase, decision and settle goes through it.
  "lib/rollout/machine.ts UPDATE": "the machine",
  // A new rollout's first row: its state is the machine's initialState(approvalsRequired).
  "lib/rollout/rollouts.ts INSERT": "creation",
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "testing" || e.name === "node_modules" ? [] : sources(full);
    return /\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) ? [full] : [];
  });
}

interface Write {
  where: string;
  kind: "UPDATE" | "INSERT";
  columns: string[];
}

interface Stmt {
  UpdateStmt?: { relation: { relname: string }; targetList: Array<{ ResTarget: { name: string } }> };
  InsertStmt?: {
    relation: { relname: string };
    cols?: Array<{ ResTarget: { name: string } }>;
    onConflictClause?: { targetList?: Array<{ ResTarget: { name: string } }> };
  };
}

/** String and template literals that hold an UPDATE or INSERT, interpolations replaced by a parameter. */
function sqlLiterals(text: string): string[] {
  const literals = [...text.matchAll(/`([^`]*)`|"((?:[^"\\\n]|\\.)*)"/g)].map((m) => (m[1] ?? m[2]).replace(/\$\{[^}]*\}/g, "$99"));
  return literals.filter((l) => /\b(update|insert\s+into)\s+rollout\b/i.test(l));
}

function writesOf(file: string): Write[] {
  const where = path.relative(ROOT, file);
  return sqlLiterals(readFileSync(file, "utf8")).flatMap((sql) => {
    let stmts: Array<{ stmt: Stmt }>;
    try {
      stmts = (parseSync(sql) as { stmts: Array<{ stmt: Stmt }> }).stmts;
    } catch (err) {
      // SQL this test cannot read is SQL it cannot vouch for.
      return [{ where, kind: "UPDATE" as const, columns: [`unparseable: ${(err as Error).message}: ${sql.slice(0, 80)}`] }];
    }
    return stmts.flatMap(({ stmt }): Write[] => {
      if (stmt.UpdateStmt?.relation.relname === "rollout")
        return [{ where, kind: "UPDATE", columns: stmt.UpdateStmt.targetList.map((t) => t.ResTarget.name) }];
      if (stmt.InsertStmt?.relation.relname === "rollout") {
        const set = [...(stmt.InsertStmt.cols ?? []), ...(stmt.InsertStmt.onConflictClause?.targetList ?? [])];
        // No column list: every column, the guarded ones included.
        return [{ where, kind: "INSERT", columns: set.length ? set.map((t) => t.ResTarget.name) : [...GUARDED] }];
      }
      return [];
    });
  });
}

describe("only the machine writes rollout.state and rollout.error", () => {
  let writes: Write[] = [];
  beforeAll(async () => {
    await loadModule();
    writes = ["lib", "app"].flatMap((d) => sources(path.join(ROOT, d))).flatMap(writesOf);
  });

  it("finds the machine's own UPDATE (the scan reads what it should)", () => {
    expect(writes.some((w) => w.where === "lib/rollout/machine.ts" && w.columns.includes("state"))).toBe(true);
  });

  it("finds no other statement that sets state, error or error_code", () => {
    const offending = writes.filter(
      (w) => w.columns.some((c) => GUARDED.has(c) || c.startsWith("unparseable")) && !ALLOWED[`${w.where} ${w.kind}`],
    );
    expect(offending.map((w) => `${w.where}: ${w.kind} rollout (${w.columns.join(", ")})`)).toEqual([]);
  });

  it("keeps no allow-list entry that no longer matches a write", () => {
    const stale = Object.keys(ALLOWED).filter(
      (k) => !writes.some((w) => `${w.where} ${w.kind}` === k && w.columns.some((c) => GUARDED.has(c))),
    );
    expect(stale).toEqual([]);
  });
});
