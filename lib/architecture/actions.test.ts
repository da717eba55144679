import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

// One server-action helper (issue 17, point 4): every action a form posts to is built on
// app/lib/action.ts formAction (session, zod, permission, lib, one result shape). This reads each
// app/**/actions.ts and fails on an exported action whose body does not go through it, or on an
// actions file that reads the session or checks a role itself.

const APP = path.join(import.meta.dirname, "../../app");

function actionFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return actionFiles(full);
    return e.name === "actions.ts" ? [full] : [];
  });
}

/** Each exported function with its body (up to the next top-level declaration). */
function exportedActions(source: string): Array<{ name: string; body: string }> {
  const starts = [...source.matchAll(/^export (?:async )?function (\w+)/gm)];
  return starts.map((m) => {
    const rest = source.slice(m.index);
    const next = rest.slice(1).search(/^(export |const |function |async function |\/\*\*)/m);
    return { name: m[1], body: next < 0 ? rest : rest.slice(0, next + 1) };
  });
}

describe("every form's server action is built on formAction", () => {
  const files = actionFiles(APP).map((f) => ({ file: path.relative(APP, f), source: readFileSync(f, "utf8") }));

  it("finds the actions files (the scan reads app/ at all)", () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
  });

  it("has no exported action that skips formAction", () => {
    const skipping = files.flatMap(({ file, source }) =>
      exportedActions(source)
        .filter((a) => !/\b(return|await) formAction\(/.test(a.body))
        .map((a) => `${file}: ${a.name}`),
    );
    expect(skipping).toEqual([]);
  });

  it("reads the session and checks roles only inside formAction", () => {
    const own = files.filter(({ source }) => /\bcurrentActor\(|\bcan\(|\bauthorize\(/.test(source)).map((f) => f.file);
    expect(own).toEqual([]);
  });
});
