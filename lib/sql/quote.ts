/** Quotes an identifier for PostgreSQL; the only way names reach SQL text in indexdeck. */
export function quoteIdent(name: string): string {
  if (name.length === 0 || name.length > 63 || name.includes("\0")) {
    throw new Error(`invalid identifier ${JSON.stringify(name)}: must be 1-63 characters without NUL`);
  }
  return `"${name.replace(/"/g, '""')}"`;
}
