import pg from "pg";
import { freshDatabase, type PgServer } from "../../testing/db";
import { loadSchemaInfo } from "../schema";
import { lintText } from "../lint";
import type { SchemaInfo } from "../rule";

/** The findings one rule produces for a change set, as `line:column message` strings. */
export async function findings(ruleId: string, sql: string, schema?: SchemaInfo): Promise<string[]> {
  const report = await lintText({ file: "test.sql", text: sql, schema });
  return report.findings.filter((f) => f.rule === ruleId).map((f) => `${f.line}:${f.column} ${f.message}`);
}

export const GUARDS = "SET lock_timeout = '2s';\nSET statement_timeout = 0;\n";

/** Creates `ddl` in a fresh empty database on `server` and reads the schema info `sql` needs from it. */
export async function schemaOn(server: PgServer, ddl: string, sql: string): Promise<SchemaInfo> {
  const client = new pg.Client({ connectionString: await freshDatabase(server, "empty") });
  await client.connect();
  try {
    await client.query(ddl);
    return await loadSchemaInfo(client, [{ file: "test.sql", text: sql }]);
  } finally {
    await client.end();
  }
}
