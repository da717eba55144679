/**
 * sql/ — SQL text indexdeck writes itself: names reach it only through these helpers (invariant 8),
 * values only as parameters.
 */

/** Quotes an identifier for PostgreSQL; the only way names reach SQL text in indexdeck. */
export function quoteIdent(name: string): string {
  if (name.length === 0 || name.length > 63 || name.includes("\0")) {
    throw new Error(`invalid identifier ${JSON.stringify(name)}: must be 1-63 characters without NUL`);
  }
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * A schema-qualified name, each part quoted by quoteIdent; with no schema, the bare quoted name
 * (which the server resolves through its search_path). Every character of a catalog name, CR, LF,
 * quotes, backslashes and `--` included, stays inside the double quotes, so it stays one name.
 */
export function quoteQualified(schema: string | null, name: string): string {
  return schema === null ? quoteIdent(name) : `${quoteIdent(schema)}.${quoteIdent(name)}`;
}
