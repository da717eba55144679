import { describe, expect, it } from "vitest";
import { applyTasks } from "../rollout/apply";
import { MemorySink } from "../rollout/memory-sink";
import { pgServers } from "../testing/db";
import { withTargetClient } from "./connect";

// A failing connect's message, as the apply engine and every read of a target report it: never a secret.
describe.each(pgServers())("a failing connect on $name PostgreSQL", (server) => {
  const at = new URL(server.adminUrl);
  const urls = [
    `postgres://no_such_role_x:ApplySecret1@${at.host}/postgres`,
    `postgres://no_such_role_x@${at.host}/postgres?password=ApplySecret1`,
    `postgres://no_such_role_x@127.0.0.1:1/postgres?password=ApplySecret1&sslpassword=ApplySecret1&passfile=%2Ftmp%2FApplySecret1`,
  ];

  it.each(urls)("says why without the secret: %s", async (url) => {
    const applied = await applyTasks([], new MemorySink(), { url, applicationName: "indexdeck:test", targetKey: "t" });
    expect(applied.ok).toBe(false);
    expect(applied.error).toMatch(/^cannot connect to the target: /);
    const read = await withTargetClient({ id: "t", url }, (c) => c.query("SELECT 1")).catch((e: Error) => e.message);
    for (const text of [applied.error, read]) expect(text).not.toContain("ApplySecret1");
  });
});
