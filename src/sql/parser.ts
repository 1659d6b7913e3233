/**
 * PostgreSQL's own parser (libpg_query, compiled to WASM: npm `libpg-query`), loaded once per process. Node-side
 * only: workflow code runs in a sandbox that cannot load WASM, so nothing under src/domain or src/workflows may
 * import this directory.
 *
 * The parser reports positions in UTF-8 bytes; callers get JavaScript string offsets (`charOffset`), because a
 * byte offset used as a string index cuts statements wrongly around any non-ASCII character (`$é$`).
 */
import { loadModule, parsePlPgSQLSync, parseSync, scanSync } from 'libpg-query';

let loading: Promise<void> | undefined;

/** Loads the WASM module (once); every other function here needs it loaded. */
export function loadSqlParser(): Promise<void> {
  loading ??= loadModule();
  return loading;
}

/** What the parser gives for one statement: its node (`{ SelectStmt: {…} }`) and where it sits, in bytes. */
export interface RawStatement {
  stmt: Record<string, unknown>;
  stmt_location?: number;
  stmt_len?: number;
}

/** SQL text PostgreSQL's grammar refuses; `at` is a string offset into that text when the parser gave one. */
export class SqlSyntaxError extends Error {
  constructor(
    message: string,
    readonly at: number | undefined,
  ) {
    super(message);
    this.name = 'SqlSyntaxError';
  }
}

/** The JavaScript string offset of UTF-8 byte offset `bytes` in `text`. */
export function charOffset(text: string, bytes: number): number {
  return Buffer.from(text, 'utf8').subarray(0, bytes).toString('utf8').length;
}

function syntaxError(err: unknown, text: string): SqlSyntaxError {
  const e = err as Error & { sqlDetails?: { cursorPosition?: number } };
  const pos = e.sqlDetails?.cursorPosition;
  return new SqlSyntaxError(e.message, typeof pos === 'number' && pos >= 0 ? charOffset(text, pos) : undefined);
}

/** The raw statements of `sql`, as PostgreSQL's grammar sees them. Throws SqlSyntaxError. */
export function parseStatements(sql: string): RawStatement[] {
  try {
    return (parseSync(sql) as { stmts?: RawStatement[] }).stmts ?? [];
  } catch (err) {
    throw syntaxError(err, sql);
  }
}

/** The PL/pgSQL tree of a `CREATE FUNCTION … LANGUAGE plpgsql` or `DO` statement. Throws SqlSyntaxError. */
export function parsePlpgsql(sql: string): unknown {
  try {
    return parsePlPgSQLSync(sql);
  } catch (err) {
    throw syntaxError(err, sql);
  }
}

/** PostgreSQL's lexer tokens of `sql`, with string offsets. Throws SqlSyntaxError. */
export function scanTokens(sql: string): { text: string; start: number; end: number }[] {
  try {
    return scanSync(sql).tokens.map((t) => ({ text: t.text, start: charOffset(sql, t.start), end: charOffset(sql, t.end) }));
  } catch (err) {
    throw syntaxError(err, sql);
  }
}
