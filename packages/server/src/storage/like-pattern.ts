/**
 * A LIKE pattern that matches `text` anywhere in a value, every character of it taken literally:
 * the wildcards `%` and `_`, and the escape character `\` itself, are escaped with `\`. Both
 * adapters use it with `ESCAPE '\'` (PostgreSQL's ILIKE, SQLite's LIKE).
 */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
