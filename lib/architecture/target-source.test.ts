import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

// "Targets reach lib one way" (issue 17, point 4): as a TargetSource (lib/targets/source.ts), asked
// when the list is needed. This parses every source file of lib/, app/ and bin/ and fails on a
// parameter or property that takes a list of targets, or a function giving one, in any other form
// (an array, a sync factory, an optional parameter with a fallback), and on a read of the targets
// file past the source.

const ROOT = path.join(import.meta.dirname, "../..");

const LIST_ALLOWED = new Set([
  // The one place a plain list is turned into a source.
  "lib/targets/source.ts fixedTargets(targets)",
  // The file's own shape, which the sources read.
  "lib/targets/config.ts TargetsFile(targets)",
  // A search of a list a source just gave.
  "lib/targets/config.ts findTarget(targets)",
]);
// The file reader the sources wrap.
const FILE_READERS = new Set(["lib/targets/config.ts", "lib/targets/source.ts"]);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" ? [] : sources(full);
    return /\.(tsx?|mts)$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) && !e.name.endsWith(".d.ts") ? [full] : [];
  });
}

interface Finding {
  where: string;
  what: string;
}

/** Whether a type node is, or returns, a list of TargetConfig other than through TargetSource. */
function takesTargetList(type: ts.TypeNode | undefined): boolean {
  if (!type) return false;
  if (ts.isArrayTypeNode(type)) return ts.isTypeReferenceNode(type.elementType) && type.elementType.typeName.getText() === "TargetConfig";
  if (ts.isTypeOperatorNode(type)) return takesTargetList(type.type);
  if (ts.isFunctionTypeNode(type)) return takesTargetList(type.type);
  if (ts.isTypeReferenceNode(type)) return (type.typeArguments ?? []).some(takesTargetList);
  if (ts.isUnionTypeNode(type)) return type.types.some(takesTargetList);
  return false;
}

function findings(file: string): Finding[] {
  const rel = path.relative(ROOT, file);
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const out: Finding[] = [];
  const owner = (n: ts.Node): string => {
    for (let p: ts.Node | undefined = n.parent; p; p = p.parent) {
      if ((ts.isFunctionDeclaration(p) || ts.isMethodDeclaration(p)) && p.name) return p.name.getText();
      if (ts.isInterfaceDeclaration(p) || ts.isTypeAliasDeclaration(p)) return p.name.getText();
      if (ts.isVariableDeclaration(p)) return p.name.getText();
    }
    return "?";
  };
  const visit = (n: ts.Node) => {
    if ((ts.isParameter(n) || ts.isPropertySignature(n) || ts.isPropertyDeclaration(n)) && takesTargetList(n.type)) {
      const where = `${rel} ${owner(n)}(${n.name.getText()})`;
      if (!LIST_ALLOWED.has(where)) out.push({ where, what: `takes ${n.type!.getText()}` });
    }
    if (ts.isParameter(n) && n.type?.getText() === "TargetSource" && (n.questionToken || n.initializer)) {
      out.push({ where: `${rel} ${owner(n)}(${n.name.getText()})`, what: "an optional source: a fallback is a second way" });
    }
    if (ts.isImportSpecifier(n) && n.name.getText() === "loadTargets" && !FILE_READERS.has(rel)) {
      out.push({ where: rel, what: "reads the targets file past the sources" });
    }
    ts.forEachChild(n, visit);
  };
  visit(source);
  return out;
}

describe("targets reach lib one way", () => {
  const files = ["lib", "app", "bin"].flatMap((d) => sources(path.join(ROOT, d)));

  it("finds the code that takes targets (the scan reads the tree at all)", () => {
    const takers = files.filter((f) => /\btargets: TargetSource\b/.test(readFileSync(f, "utf8")));
    expect(takers.length).toBeGreaterThanOrEqual(6);
  });

  it("takes every list of targets as a TargetSource, never as an array, a sync factory or an optional fallback", () => {
    expect(files.flatMap(findings)).toEqual([]);
  });

  it("catches each of the three old ways", () => {
    const check = (code: string) => {
      const s = ts.createSourceFile("x.ts", code, ts.ScriptTarget.Latest, true);
      const param = (s.statements[0] as ts.FunctionDeclaration).parameters[0];
      return takesTargetList(param.type) || !!param.questionToken;
    };
    expect(check("function f(targets: TargetConfig[]) {}")).toBe(true);
    expect(check("function f(targets: () => TargetConfig[]) {}")).toBe(true);
    expect(check("function f(targets: readonly TargetConfig[]) {}")).toBe(true);
    expect(check("function f(targets?: TargetSource) {}")).toBe(true);
    expect(check("function f(targets: TargetSource) {}")).toBe(false);
    expect(check("function f(target: TargetConfig) {}")).toBe(false);
  });
});
