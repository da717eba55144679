import { describe, expect, it } from "vitest";
import { findings } from "./testing";

describe("setting-not-allowed", () => {
  it("fires on settings that change lexing, identity, name resolution or the session's name, and on RESET ALL", async () => {
    const sql = [
      "SET standard_conforming_strings = off;",
      "SET backslash_quote = on;",
      "SET client_encoding = 'SJIS';",
      "SET ROLE admin;",
      "SET SESSION AUTHORIZATION admin;",
      "SET search_path = evil, public;",
      "RESET ALL;",
      "SET application_name = 'x';",
      "SET work_mem = '1GB';",
      "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;",
      "RESET search_path;",
      "SET lock_timeout FROM CURRENT;",
    ].join("\n");
    const found = await findings("setting-not-allowed", sql);
    expect(found.map((f) => f.split(" ")[0])).toEqual([
      "1:1",
      "2:1",
      "3:1",
      "4:1",
      "5:1",
      "6:1",
      "7:1",
      "8:1",
      "9:1",
      "10:1",
      "11:1",
      "12:1",
    ]);
    expect(found[0]).toBe(
      "1:1 SET standard_conforming_strings is not allowed in a rollout: it changes how the server reads SQL text, which must stay as the linter and the approvers read it",
    );
    expect(found[3]).toBe("4:1 SET role is not allowed in a rollout: it changes whom the statements run as");
    expect(found[8]).toBe(
      "9:1 SET work_mem is not allowed in a rollout: only lock_timeout, statement_timeout, maintenance_work_mem, max_parallel_maintenance_workers may be set",
    );
  });
  it("does not fire on the rollout settings, and can't be suppressed", async () => {
    expect(
      await findings(
        "setting-not-allowed",
        "SET lock_timeout = '2s';\nSET statement_timeout = 0;\nSET maintenance_work_mem = '256MB';\nSET max_parallel_maintenance_workers = 0;\nRESET statement_timeout;\n",
      ),
    ).toEqual([]);
    expect(await findings("setting-not-allowed", "-- indexdeck-ignore setting-not-allowed\nSET ROLE admin;\n")).toHaveLength(1);
  });
});
