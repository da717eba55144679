import { describe, expect, it } from "vitest";
import { findings } from "./testing";

describe("duplicate-index-name", () => {
  it("fires on the second use of a name, case-folded as PostgreSQL does", async () => {
    expect(
      await findings("duplicate-index-name", "CREATE INDEX CONCURRENTLY a ON t (x);\n\nCREATE INDEX CONCURRENTLY A ON u (y);\n"),
    ).toEqual(["3:1 index name a is already created at line 1"]);
  });

  it("fires when the same index is created once unqualified and once in public", async () => {
    expect(
      await findings("duplicate-index-name", "CREATE INDEX CONCURRENTLY a ON t (x);\nCREATE INDEX CONCURRENTLY a ON public.t (y);\n"),
    ).toEqual([
      "2:1 index public.a is already created at line 1 as a: an unqualified name resolves through search_path, usually to public",
    ]);
    expect(
      await findings("duplicate-index-name", "CREATE INDEX CONCURRENTLY a ON public.t (x);\nCREATE INDEX CONCURRENTLY a ON t (y);\n"),
    ).toEqual([
      "2:1 index a is already created at line 1 as public.a: an unqualified name resolves through search_path, usually to public",
    ]);
  });

  it("fires when a DROP names a created index the other way, qualified or not", async () => {
    expect(await findings("duplicate-index-name", "CREATE INDEX CONCURRENTLY a ON t (x);\nDROP INDEX CONCURRENTLY public.a;\n")).toEqual([
      "2:1 index public.a is created at line 1 as a: an unqualified name resolves through search_path, usually to public; name it the same way everywhere",
    ]);
    expect(
      await findings("duplicate-index-name", "DROP INDEX CONCURRENTLY IF EXISTS a;\nCREATE INDEX CONCURRENTLY a ON public.t (x);\n"),
    ).toEqual([
      "2:1 index public.a is dropped at line 1 as a: an unqualified name resolves through search_path, usually to public; name it the same way everywhere",
    ]);
  });

  it("does not fire on distinct names or the same name in different schemas", async () => {
    expect(
      await findings(
        "duplicate-index-name",
        'CREATE INDEX CONCURRENTLY a ON t (x);\nCREATE INDEX CONCURRENTLY "A" ON t (y);\nCREATE INDEX CONCURRENTLY a ON s.t (x);\n',
      ),
    ).toEqual([]);
  });

  it("does not fire on a drop and re-create spelled the same way", async () => {
    expect(
      await findings(
        "duplicate-index-name",
        "DROP INDEX CONCURRENTLY IF EXISTS public.a;\nCREATE INDEX CONCURRENTLY a ON public.t (x);\nDROP INDEX CONCURRENTLY b;\nCREATE INDEX CONCURRENTLY b ON t (x);\n",
      ),
    ).toEqual([]);
  });
});
