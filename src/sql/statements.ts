/**
 * A SQL text's statements, exactly where PostgreSQL's grammar puts their boundaries: the parser's own statement
 * locations and lengths, never a scanner of ours. A text the grammar refuses has no statements (SqlSyntaxError):
 * a boundary guessed around a syntax error is a boundary PostgreSQL might not share.
 */
import { parseStatements, type RawStatement } from './parser';

export interface SqlStatement {
  /** The statement's text, without the `;` that ends it and without surrounding whitespace. */
  text: string;
  /** Its parse tree node kind, e.g. "SelectStmt", "TransactionStmt". */
  kind: string;
  /** The node itself (`node[kind]` of the parser's output). */
  node: Record<string, unknown>;
  /** 1-based position among the text's statements. */
  index: number;
}

export function splitStatements(sql: string): SqlStatement[] {
  const raw = parseStatements(sql);
  const bytes = Buffer.from(sql, 'utf8');
  return raw.map((r: RawStatement, i) => {
    // Locations and lengths are UTF-8 byte offsets; an absent length means "to the end of the text".
    const start = r.stmt_location ?? 0;
    const end = r.stmt_len ? start + r.stmt_len : bytes.length;
    const kind = Object.keys(r.stmt)[0]!;
    return { text: bytes.subarray(start, end).toString('utf8').trim(), kind, node: r.stmt[kind] as Record<string, unknown>, index: i + 1 };
  });
}
