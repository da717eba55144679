import { describe, expect, it } from "vitest";
import { runBin, runCli } from "./testing";

const COMMANDS = ["lint", "migrate", "users", "tokens", "audit", "worker", "precheck", "apply", "verify", "rollback", "cancel", "report"];

describe("indexdeck's usage", () => {
  it("answers --help for every subcommand with its own options and the exit codes, touching nothing", async () => {
    for (const name of COMMANDS) {
      const r = await runCli([name, "--help"]);
      expect(r, name).toMatchObject({ code: 0, err: "" });
      expect(r.out, name).toMatch(new RegExp(`indexdeck (\\S+\\|)?${name}\\b`));
      expect(r.out, name).toContain("exit codes: 0 clean or done, 1 findings or a failed phase, 2 unusable input");
    }
    expect((await runCli(["report", "--help"])).out).toContain("indexdeck report rollout ID [--format md]");
  });

  it("lists every command in the whole usage, and names the subcommand and the option it does not know", async () => {
    // Asked for, the usage is the answer (stdout, so it pipes into a pager); unasked, an error (stderr).
    for (const ask of ["--help", "-h"]) {
      const all = await runCli([ask]);
      expect(all, ask).toMatchObject({ code: 0, err: "" });
      for (const name of COMMANDS) expect(all.out).toMatch(new RegExp(`indexdeck (\\S+\\|)?${name}\\b`));
    }
    expect(await runCli([])).toMatchObject({ code: 2, out: "", err: expect.stringContaining("indexdeck lint PATH...") });
    // As a user meets them: the compiled bin, a process of its own, says what the TypeScript says.
    const bad = await runBin(["report", "--bogus"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^indexdeck report: .*'--bogus'/);
    expect(bad).toEqual(await runCli(["report", "--bogus"]));
    const unknown = await runBin(["nope"]);
    expect(unknown).toMatchObject({ code: 2, err: expect.stringContaining("unknown command: nope") });
    expect(unknown).toEqual(await runCli(["nope"]));
  });
});
