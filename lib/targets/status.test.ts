import { describe, expect, it } from "vitest";
import { databaseUrl, pgServers } from "../testing/db";
import { parseTargetsFile } from "./config";
import { targetStatus } from "./status";

describe.each(pgServers())("target status on $name PostgreSQL", (server) => {
  it("reports a reachable target's version and size, and an unreachable one as down without its password", async () => {
    const up = new URL(databaseUrl(server, "postgres"));
    const targets = parseTargetsFile(
      JSON.stringify({
        targets: [
          { id: "up", label: "Up", environment: "staging", url: up.toString(), approvals: { required: 0 } },
          {
            id: "down",
            label: "Down",
            environment: "production",
            url: "postgres://u:hunter2pass@127.0.0.1:1/db",
            approvals: { required: 2 },
          },
        ],
      }),
      "t.json",
    );
    const [a, b] = await Promise.all(targets.map(targetStatus));
    expect(a.reachable).toBe(true);
    if (a.reachable) {
      expect(a.server.serverVersionNum).toBeGreaterThanOrEqual(150000);
      expect(a.server.databaseBytes).toBeGreaterThan(0);
    }
    expect(b.reachable).toBe(false);
    expect(JSON.stringify(b)).not.toContain("hunter2pass");
    if (!b.reachable) expect(b.error).toMatch(/ECONNREFUSED|connect/);
  });
});
