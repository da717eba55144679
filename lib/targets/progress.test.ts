import pg from "pg";
import { describe, expect, it } from "vitest";
import { freshDatabase, pgServers } from "../testing/db";
import { backendWait, buildProgress } from "./progress";

describe.each(pgServers())("build progress polling on $name PostgreSQL", (server) => {
  it("keeps its queries prepared on the polling session, so a poll every half second parses and plans them once", async () => {
    const c = new pg.Client({ connectionString: await freshDatabase(server, "empty") });
    await c.connect();
    try {
      const {
        rows: [{ pid }],
      } = await c.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      for (let i = 0; i < 3; i++) {
        expect(await buildProgress(c, pid)).toBeNull(); // this session builds nothing
        expect(await backendWait(c, pid)).toMatchObject({ blockingPids: [] });
      }
      const { rows } = await c.query<{ name: string }>("SELECT name FROM pg_prepared_statements ORDER BY name");
      expect(rows.map((r) => r.name)).toEqual(["indexdeck.backend-wait", "indexdeck.build-progress"]);
    } finally {
      await c.end();
    }
  });
});
