/** Statement boundaries from PostgreSQL's own grammar (src/sql/statements.ts); migrated from the old scanner's tests. */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSqlParser, SqlSyntaxError } from '../../src/sql/parser';
import { splitStatements } from '../../src/sql/statements';

const texts = (sql: string) => splitStatements(sql).map((s) => s.text);

beforeAll(() => loadSqlParser());

describe('splitStatements', () => {
  it('splits on top-level semicolons and drops empty statements', () => {
    expect(texts('SELECT 1; ;SELECT 2;\n')).toEqual(['SELECT 1', 'SELECT 2']);
  });

  it('keeps semicolons inside quotes, identifiers, dollar quotes and comments', () => {
    const fn = "CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $body$ INSERT INTO t VALUES ('a;b'); DELETE FROM t; $body$";
    const sql = `${fn}; INSERT INTO "x;y" VALUES ('it''s; fine', E'back\\'slash;'); -- a; comment\nSELECT $$;$$ /* c; /* nested; */ still; */`;
    // The grammar's statement starts at its first token: the leading line comment is not part of it.
    expect(texts(sql)).toEqual([fn, `INSERT INTO "x;y" VALUES ('it''s; fine', E'back\\'slash;')`, 'SELECT $$;$$ /* c; /* nested; */ still; */']);
  });

  it('treats $1 parameters and identifiers with $ as plain text, and a comment-only tail as nothing', () => {
    expect(texts('SELECT a$b, $1 FROM t; -- done')).toEqual(['SELECT a$b, $1 FROM t']);
  });

  it('sees non-ASCII dollar-quote tags as PostgreSQL does (the scanner this replaced saw one statement here)', () => {
    const sql = "SELECT $é$'$é$; COMMIT; DELETE FROM/**/users; COMMIT; BEGIN READ ONLY; SAVEPOINT explain; SAVEPOINT step; SELECT $é$'$é$";
    expect(splitStatements(sql).map((s) => [s.kind, s.text])).toEqual([
      ['SelectStmt', "SELECT $é$'$é$"],
      ['TransactionStmt', 'COMMIT'],
      ['DeleteStmt', 'DELETE FROM/**/users'],
      ['TransactionStmt', 'COMMIT'],
      ['TransactionStmt', 'BEGIN READ ONLY'],
      ['TransactionStmt', 'SAVEPOINT explain'],
      ['TransactionStmt', 'SAVEPOINT step'],
      ['SelectStmt', "SELECT $é$'$é$"],
    ]);
  });

  it('cuts by character, not byte, after multi-byte text (the parser counts UTF-8 bytes)', () => {
    expect(texts("SELECT 'ünïcödé — ✓'; SELECT U&\"d\\0061t\\+000061\" FROM \"Ω;\"")).toEqual(["SELECT 'ünïcödé — ✓'", 'SELECT U&"d\\0061t\\+000061" FROM "Ω;"']);
  });

  it('refuses text the grammar refuses, with where, instead of guessing boundaries', () => {
    let err: unknown;
    try {
      splitStatements("SELECT 1; SELECT 'unterminated; DELETE FROM users");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SqlSyntaxError);
    expect((err as SqlSyntaxError).message).toMatch(/unterminated quoted string/);
    expect((err as SqlSyntaxError).at).toBe(17);
  });
});
