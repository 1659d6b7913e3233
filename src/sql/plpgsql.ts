/**
 * What a PL/pgSQL body runs, from PostgreSQL's own PL/pgSQL parser: every embedded SQL statement and expression
 * as SQL text the main parser can read, and the findings the body itself makes (EXECUTE of SQL text, COMMIT or
 * ROLLBACK inside it). Expressions become `SELECT <expr>`, which is how PL/pgSQL itself runs them.
 */
import type { Finding } from './findings';
import { isTreeObject } from './parse-tree';
import { scanTokens } from './parser';

export interface PlpgsqlContents {
  sql: string[];
  findings: Finding[];
}

/** PL/pgSQL's parse modes (RawParseMode): a statement, a type name, an expression, or an assignment `target := expr`. */
const DEFAULT = 0;
const TYPE_NAME = 1;
const EXPRESSION = 2;

/** The value side of `target := expr` (or `target = expr`), found with PostgreSQL's lexer, as `SELECT expr`. */
function assignmentSql(query: string): string | undefined {
  let depth = 0;
  for (const t of scanTokens(query)) {
    if (t.text === '[' || t.text === '(') depth++;
    else if (t.text === ']' || t.text === ')') depth--;
    else if (depth === 0 && (t.text === ':=' || t.text === '=')) return `SELECT ${query.slice(t.end)}`;
  }
  return undefined;
}

function expressionSql(query: string, mode: number): string | undefined {
  if (mode === DEFAULT) return query;
  if (mode === TYPE_NAME) return undefined;
  if (mode === EXPRESSION) return `SELECT ${query}`;
  return assignmentSql(query);
}

export function plpgsqlContents(tree: unknown): PlpgsqlContents {
  const out: PlpgsqlContents = { sql: [], findings: [] };
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!isTreeObject(v)) return;
    for (const [key, value] of Object.entries(v)) {
      if (key === 'PLpgSQL_stmt_dynexecute' || key === 'PLpgSQL_stmt_dynfors' || key === 'dynquery') {
        out.findings.push({ class: 'dynamic-sql', what: 'EXECUTE of SQL text in a PL/pgSQL body' });
      } else if (key === 'PLpgSQL_stmt_commit' || key === 'PLpgSQL_stmt_rollback') {
        out.findings.push({ class: 'transaction', what: `${key === 'PLpgSQL_stmt_commit' ? 'COMMIT' : 'ROLLBACK'} in a PL/pgSQL body` });
      } else if (key === 'PLpgSQL_expr' && isTreeObject(value) && typeof value.query === 'string') {
        let sql: string | undefined;
        try {
          sql = expressionSql(value.query, Number(value.parseMode ?? DEFAULT));
        } catch (err) {
          out.findings.push({ class: 'unparseable', what: `PL/pgSQL expression "${value.query}": ${(err as Error).message}` });
        }
        if (sql !== undefined) out.sql.push(sql);
        else if (Number(value.parseMode) !== TYPE_NAME) out.findings.push({ class: 'unparseable', what: `PL/pgSQL assignment "${value.query}"` });
      }
      walk(value);
    }
  };
  walk(tree);
  return out;
}
