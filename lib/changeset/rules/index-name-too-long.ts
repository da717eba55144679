import { scanSync } from "../pg-parser";
import { createdIndex, droppedIndexes, nodeBody, statementFact } from "../nodes";
import { defineRule } from "../rule";

/** NAMEDATALEN - 1: the longest name PostgreSQL stores, in bytes. */
const MAX_NAME_BYTES = 63;

type Obj = Record<string, unknown>;

/**
 * The index names a statement refers to, as the parse tree has them, when one of them may have been
 * cut; null when none was. The parser has already cut them to 63 bytes, as the server will, which is
 * why the rule reads the written name from tokens. A cut name keeps at least 60 of its bytes (a
 * character is at most 4): with no name that long, nothing was cut.
 */
const indexNames = statementFact(["IndexStmt", "DropStmt", "ReindexStmt", "CommentStmt", "RenameStmt", "AlterTableStmt"], (stmt) => {
  const names = new Set<string>();
  const created = createdIndex(stmt)?.name;
  if (created) names.add(created);
  for (const d of droppedIndexes(stmt)?.names ?? []) names.add(d.name);
  const reindex = nodeBody(stmt, "ReindexStmt");
  if (reindex?.kind === "REINDEX_OBJECT_INDEX") names.add((reindex.relation as { relname: string }).relname);
  const comment = nodeBody(stmt, "CommentStmt");
  if (comment?.objtype === "OBJECT_INDEX") {
    const items = ((comment.object as Obj)?.List as { items?: Array<{ String?: { sval: string } }> })?.items ?? [];
    const last = items[items.length - 1]?.String?.sval;
    if (last) names.add(last);
  }
  const rename = nodeBody(stmt, "RenameStmt");
  if (rename?.renameType === "OBJECT_INDEX") {
    names.add((rename.relation as { relname: string }).relname);
    names.add(rename.newname as string);
  }
  const alter = nodeBody(stmt, "AlterTableStmt");
  if (alter?.objtype === "OBJECT_INDEX") names.add((alter.relation as { relname: string }).relname);
  for (const n of names) if (Buffer.byteLength(n) > MAX_NAME_BYTES - 4) return names;
  return null;
});

/** An identifier token's name as the scanner reads it: quoted as written, unquoted in lower case. */
function identifierName(token: string): string {
  if (token.startsWith('"')) return token.slice(1, -1).replaceAll('""', '"');
  return token.replace(/[A-Z]+/g, (s) => s.toLowerCase()); // the scanner folds ASCII letters only
}

/** The longest prefix of whole characters within `max` bytes (PostgreSQL's pg_mbcliplen). */
function clipToBytes(name: string, max: number): string {
  let bytes = 0;
  let out = "";
  for (const ch of name) {
    bytes += Buffer.byteLength(ch);
    if (bytes > max) break;
    out += ch;
  }
  return out;
}

export const indexNameTooLong = defineRule({
  id: "index-name-too-long",
  severity: "error",
  description: "an index name over 63 bytes, which PostgreSQL silently truncates",
  help: "PostgreSQL keeps at most 63 bytes of a name (NAMEDATALEN - 1) and cuts the rest without an error, so the index gets another name than the change set's, and verify and rollback look for a name that does not exist. Shorten the name to 63 bytes; in UTF-8 an accented letter takes 2 bytes, many other characters 3 or 4.",
  check: (ctx) =>
    ctx.statements.flatMap((stmt) => {
      const names = indexNames(stmt);
      if (!names) return [];
      let tokens;
      try {
        tokens = scanSync(stmt.text).tokens;
      } catch {
        return []; // the statement parsed, so its scan succeeds; nothing to say if it does not
      }
      const reported = new Set<string>();
      return tokens.flatMap((t) => {
        if (t.tokenName !== "IDENT") return [];
        const written = identifierName(t.text);
        const bytes = Buffer.byteLength(written);
        const kept = clipToBytes(written, MAX_NAME_BYTES);
        if (bytes <= MAX_NAME_BYTES || !names.has(kept) || reported.has(written)) return [];
        reported.add(written);
        return [
          {
            stmt,
            message: `index name ${written} is ${bytes} bytes: PostgreSQL cuts names to ${MAX_NAME_BYTES} bytes, so the index would be named ${kept}`,
          },
        ];
      });
    }),
});
