/**
 * Differential: for a corpus of SQL written to trip a hand-made scanner, our statement boundaries and the
 * relations each statement touches must equal what PostgreSQL itself sees, on PGlite and on the test PostgreSQL
 * server. PostgreSQL's view: the whole text through the simple protocol (one result per statement it ran), each of
 * our statements alone through the extended protocol (which refuses a text of two statements, and fails on half
 * of one), and the relations that statement locked (pg_locks), each in a transaction rolled back.
 *
 * `standard_conforming_strings = off` makes the server read `'a\'` differently from the parser: the last test
 * shows the difference exists and that the dry-run's session reads strings the way the check parsed them.
 */
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { analyzeSql } from '../../src/sql/analyze';
import { pgliteSession } from '../../src/activities/targets/pglite';
import { postgresSession, urlForDatabase } from '../../src/activities/targets/postgres';
import type { TargetSession } from '../../src/activities/targets/target';
import { ENGINES, type Engine } from '../support/targets';

const SCHEMA = `CREATE TABLE t1 (a text); CREATE TABLE "x;y" (a text); CREATE TABLE "Ω;" (a text); CREATE TABLE dat (a text); CREATE TABLE "semi;colon" (a text);`;

const CORPUS: string[] = [
  "SELECT $é$;'$é$ FROM t1; SELECT 1 FROM \"x;y\"",
  "SELECT $_ü$ ; $_ü$, $a$ $b$ ; $a$ FROM t1; INSERT INTO \"Ω;\" VALUES ('x')",
  "/* a; /* b; */ c; */ SELECT 1 FROM t1 /* ; */; -- ;\n SELECT 2 FROM \"x;y\"",
  "SELECT E'it\\'s; here' FROM t1; UPDATE t1 SET a = E'\\\\'; -- not a string'\nDELETE FROM dat",
  'SELECT * FROM U&"d\\0061t"; SELECT * FROM U&"!0078!003by" UESCAPE \'!\'',
  'SELECT 1 FROM "x;y" AS "a"";b"; SELECT 2 FROM "semi;colon"',
  "SELECT 'a'';b' FROM t1; SELECT ';' FROM \"x;y\"",
  "SELECT 'a\\' FROM t1; SELECT 2 FROM dat",
  'CREATE FUNCTION f_diff() RETURNS int LANGUAGE sql AS $f$ SELECT 1; SELECT 2 $f$; SELECT 1 FROM t1',
  ';;SELECT 1 FROM t1;;; -- the end',
  'SELECT a$b FROM (SELECT 1 AS a$b) s, t1',
  "SELECT 'x' -- c ;\n ; SELECT 2 FROM dat; SELECT $$ /* $$ FROM t1; SELECT 3 FROM \"Ω;\" /* */",
  'WITH w AS (SELECT a FROM dat) SELECT * FROM w JOIN t1 ON true; DELETE FROM "semi;colon" WHERE a IN (SELECT a FROM "x;y")',
];

interface Engined {
  session: TargetSession;
  /** Statements PostgreSQL runs for the whole text through the simple protocol. */
  simpleCount(sql: string): Promise<number>;
  close(): Promise<void>;
}

const postgres = inject('postgres');

async function open(engine: Engine): Promise<Engined> {
  if (engine === 'pglite') {
    const db = await PGlite.create();
    await db.exec(SCHEMA);
    return { session: pgliteSession(db), simpleCount: async (sql) => (await db.exec(sql)).length, close: () => db.close() };
  }
  const { url } = postgres as { url: string };
  const name = `gl_test_diff_${Math.random().toString(36).slice(2, 10)}`;
  await postgresSession(url, (s) => s.exec(`CREATE DATABASE ${name}`));
  const client = new pg.Client({ connectionString: urlForDatabase(url, name) });
  await client.connect();
  await client.query(SCHEMA);
  const results = async (sql: string) => {
    const r = (await client.query(sql)) as unknown as pg.QueryResult | pg.QueryResult[];
    return Array.isArray(r) ? r.length : 1;
  };
  const session: TargetSession = {
    query: async (sql, params) => (await client.query(sql, params)).rows,
    exec: async (sql) => void (await client.query(sql)),
    statement: async (sql) => (await client.query({ text: sql, queryMode: 'extended' } as pg.QueryConfig)).rows,
  };
  return {
    session,
    simpleCount: results,
    close: async () => {
      await client.end();
      await postgresSession(url, (s) => s.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

const LOCKED = `SELECT c.relname::text AS r FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
  WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND c.relkind IN ('r', 'p', 'v') AND c.relnamespace = 'public'::regnamespace`;

describe.each(ENGINES)('%s sees the statements and relations our parser sees', (engine) => {
  let e: Engined;
  beforeAll(async () => {
    e = await open(engine);
  });
  afterAll(() => e?.close());

  it.each(CORPUS)('%s', async (sql) => {
    const ours = await analyzeSql(sql);
    await e.session.exec('BEGIN');
    let serverCount: number;
    try {
      serverCount = await e.simpleCount(sql);
    } finally {
      await e.session.exec('ROLLBACK');
    }
    expect(ours.length).toBe(serverCount);
    for (const a of ours) {
      await e.session.exec('BEGIN');
      try {
        await e.session.statement(a.statement.text);
        const locked = (await e.session.query<{ r: string }>(LOCKED)).map((x) => x.r).sort();
        const named = [...new Set(a.objects.filter((o) => o.kind === 'relation').map((o) => o.name))].sort();
        expect(named, a.statement.text).toEqual(locked);
      } finally {
        await e.session.exec('ROLLBACK');
      }
    }
  });

  it("with standard_conforming_strings = off the server reads 'a\\' differently; the parser (and the dry-run) read it as on", async () => {
    const sql = "SELECT 'a\\'; SELECT 1 FROM dat; --' FROM t1";
    expect((await analyzeSql(sql)).map((a) => a.statement.text)).toEqual(["SELECT 'a\\'", 'SELECT 1 FROM dat']);
    await e.session.exec('BEGIN');
    try {
      await e.session.exec('SET LOCAL standard_conforming_strings = off');
      expect(await e.simpleCount(sql)).toBe(1);
      await e.session.exec('SET LOCAL standard_conforming_strings = on');
      expect(await e.simpleCount(sql)).toBe(2);
    } finally {
      await e.session.exec('ROLLBACK');
    }
  });
});
