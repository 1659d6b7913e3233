import { describe, expect, it } from 'vitest';
import { splitStatements } from '../../src/domain/sql-statements';

describe('splitStatements', () => {
  it('splits on top-level semicolons and drops empty statements', () => {
    expect(splitStatements('SELECT 1; ;SELECT 2;\n')).toEqual(['SELECT 1', 'SELECT 2']);
  });

  it('keeps semicolons inside quotes, identifiers, dollar quotes and comments', () => {
    const fn = "CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $body$ INSERT INTO t VALUES ('a;b'); DELETE FROM t; $body$";
    const sql = `${fn}; INSERT INTO "x;y" VALUES ('it''s; fine', E'back\\'slash;'); -- a; comment\nSELECT $$;$$ /* c; /* nested; */ still; */`;
    expect(splitStatements(sql)).toEqual([fn, `INSERT INTO "x;y" VALUES ('it''s; fine', E'back\\'slash;')`, `-- a; comment\nSELECT $$;$$ /* c; /* nested; */ still; */`]);
  });

  it('treats $1 parameters and identifiers with $ as plain text, and a comment-only tail as nothing', () => {
    expect(splitStatements('SELECT a$b, $1 FROM t; -- done')).toEqual(['SELECT a$b, $1 FROM t']);
  });
});
