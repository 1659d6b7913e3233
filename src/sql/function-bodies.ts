/**
 * The code a statement carries to run later or elsewhere: the body of CREATE FUNCTION / PROCEDURE and of DO. SQL
 * and PL/pgSQL bodies are parsed with PostgreSQL's own parsers and their statements analysed like the step's own
 * (a function the step creates runs with the step's reach). Bodies in other languages cannot be read: C and
 * internal functions load server code (never allowed); the rest need the `dynamic-sql` exception.
 */
import type { Finding } from './findings';
import { nameList, option, type TreeObject } from './parse-tree';
import { parsePlpgsql } from './parser';
import { plpgsqlContents } from './plpgsql';

export interface BodyContents {
  /** SQL texts the body runs, to be analysed as statements. */
  sql: string[];
  findings: Finding[];
}

function languageOf(options: unknown, fallback: string): string {
  const l = option(options, 'language');
  return (nameList(l)[0] ?? fallback).toLowerCase();
}

function plpgsqlBody(statementText: string, what: string): BodyContents {
  try {
    return plpgsqlContents(parsePlpgsql(statementText));
  } catch (err) {
    return { sql: [], findings: [{ class: 'unparseable', what: `${what}: ${(err as Error).message}` }] };
  }
}

function otherLanguage(language: string, what: string): BodyContents {
  if (language === 'c' || language === 'internal') return { sql: [], findings: [{ class: 'system', what: `${what} in language ${language} (server code)` }] };
  return { sql: [], findings: [{ class: 'dynamic-sql', what: `${what} in language ${language}, which cannot be analysed` }] };
}

/** The contents of a statement's body; empty for statements without one (and for SQL-standard bodies, which are part of the tree). */
export function bodyContents(kind: string, node: TreeObject, statementText: string): BodyContents {
  if (kind === 'CreateFunctionStmt') {
    const language = languageOf(node.options, 'sql');
    const as = option(node.options, 'as');
    if (as === undefined) return { sql: [], findings: [] }; // BEGIN ATOMIC: already in the tree
    if (language === 'sql') return { sql: nameList(as).slice(0, 1), findings: [] };
    if (language === 'plpgsql') return plpgsqlBody(statementText, 'the PL/pgSQL function body');
    return otherLanguage(language, 'a function body');
  }
  if (kind === 'DoStmt') {
    const language = languageOf(node.args, 'plpgsql');
    if (language === 'plpgsql') return plpgsqlBody(statementText, 'the DO block');
    return otherLanguage(language, 'a DO block');
  }
  return { sql: [], findings: [] };
}
