/**
 * One SQL text, analysed with PostgreSQL's own parser: its statements (split where PostgreSQL splits them), and
 * for each the objects it touches and the refused classes it falls in — including what the bodies of functions
 * and DO blocks it creates run, analysed the same way.
 */
import type { Finding, TouchedObject } from './findings';
import { bodyContents } from './function-bodies';
import { collectObjects } from './objects';
import { loadSqlParser, SqlSyntaxError } from './parser';
import { classify } from './statement-classes';
import { splitStatements, type SqlStatement } from './statements';

export interface StatementAnalysis {
  statement: SqlStatement;
  objects: TouchedObject[];
  findings: Finding[];
}

/** Bodies inside bodies are followed this deep; deeper nesting is refused rather than skipped. */
const MAX_DEPTH = 8;

function analyzeStatement(s: SqlStatement, depth: number): { objects: TouchedObject[]; findings: Finding[] } {
  const collected = collectObjects(s.kind, s.node);
  const findings = [...classify(s.kind, s.node), ...collected.findings];
  const objects = [...collected.objects];
  const body = bodyContents(s.kind, s.node, s.text);
  findings.push(...body.findings);
  for (const sql of body.sql) {
    if (depth >= MAX_DEPTH) {
      findings.push({ class: 'unsupported', what: `function bodies nested more than ${MAX_DEPTH} deep` });
      break;
    }
    let inner: SqlStatement[];
    try {
      inner = splitStatements(sql);
    } catch (err) {
      findings.push({ class: 'unparseable', what: `SQL in a function body: ${(err as Error).message}` });
      continue;
    }
    for (const i of inner) {
      const a = analyzeStatement(i, depth + 1);
      objects.push(...a.objects);
      findings.push(...a.findings);
    }
  }
  return { objects, findings };
}

/** Analyses `sql` (the parser must be loaded: `loadSqlParser`). Throws SqlSyntaxError when PostgreSQL would refuse it. */
export function analyzeSqlLoaded(sql: string): StatementAnalysis[] {
  return splitStatements(sql).map((statement) => ({ statement, ...analyzeStatement(statement, 0) }));
}

export async function analyzeSql(sql: string): Promise<StatementAnalysis[]> {
  await loadSqlParser();
  return analyzeSqlLoaded(sql);
}

export { SqlSyntaxError };
