// architecture/ — tests that hold the architecture (ARCHITECTURE.md, issue 17): decisions by data
// (decisions.test.ts), one writer of a rollout's state (state-writes.test.ts), every form's action on
// formAction (actions.test.ts), and this one.
//
// The README's folder map is the architecture as a newcomer first reads it: every folder it lists must
// exist with the main file it names, that file must open with a comment saying what the folder holds,
// and every folder of lib/ must be listed (lib/'s top level holds folders only).

import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.join(import.meta.dirname, "../..");
const LIB = path.join(ROOT, "lib");

function readmeMap(): Array<{ folder: string; main: string }> {
  const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Where things are"));
  const block = section.slice(section.indexOf("```\nlib/\n"), section.indexOf("\n```\n", section.indexOf("```\nlib/\n") + 4));
  return [...block.matchAll(/^ {2}([a-z-]+)\/\s+(\S+)/gm)].map((m) => ({ folder: m[1], main: m[2] }));
}

describe("the README's folder map matches lib/", () => {
  const map = readmeMap();

  it("lists folders (the map is found at all)", () => {
    expect(map.length).toBeGreaterThan(10);
  });

  it("names only folders and main files that exist, each main file opening with a comment", () => {
    const wrong = map.flatMap(({ folder, main }) => {
      const file = path.join(LIB, folder, main);
      if (!existsSync(file)) return [`lib/${folder}/${main} does not exist`];
      const first = readFileSync(file, "utf8").trimStart();
      return first.startsWith("/**") || first.startsWith("//") ? [] : [`lib/${folder}/${main} does not open with a comment`];
    });
    expect(wrong).toEqual([]);
  });

  it("lists every folder of lib/, and lib/ holds folders only", () => {
    const entries = readdirSync(LIB, { withFileTypes: true });
    const unlisted = entries.filter((e) => e.isDirectory() && !map.some((m) => m.folder === e.name)).map((e) => `lib/${e.name}/`);
    const files = entries.filter((e) => !e.isDirectory()).map((e) => `lib/${e.name}`);
    expect([...unlisted, ...files]).toEqual([]);
  });
});
