/**
 * SQL containment (src/sql/containment.ts): what each step's SQL touches, by PostgreSQL's own parser, against the
 * declared surface and the refused statement classes. Migrated from the keyword scan's tests, plus every payload
 * the keyword scan let through (issue 12) and each exception of `surface.allow`.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { changeSpecSchema, type ChangeSpec } from '../../src/domain/change-spec';
import { readContainedChangeSpec } from '../../src/cli/change-file';
import { sqlContainmentProblems } from '../../src/sql/containment';
import { DEMO_CHANGE, readChangeSpecForTest } from '../support/fixtures';
import { ISSUE_PAYLOADS } from './payloads';

const SURFACE = { tables: ['birth_registry'], functions: ['fn_birth_register'] };

const spec = (apply: string, over: { rollback?: string; allow?: ChangeSpec['surface'] extends infer S ? (S extends { allow?: infer A } ? A : never) : never } = {}): ChangeSpec => ({
  v: 1,
  id: 'containment',
  title: 'containment',
  surface: { ...SURFACE, ...(over.allow ? { allow: over.allow } : {}) },
  steps: [{ id: 's1', action: 'APPLY', apply, rollback: over.rollback ?? 'SELECT 1' }],
});
const problems = (apply: string, over: Parameters<typeof spec>[1] = {}) => sqlContainmentProblems(spec(apply, over));


describe('SQL containment: the surface', () => {
  it('finds nothing outside the surface in the demo steps (function bodies included)', async () => {
    expect(await sqlContainmentProblems(readChangeSpecForTest())).toEqual([]);
  });

  it('names objects outside it, quoted or schema-qualified, with step, apply/rollback and statement', async () => {
    const p = await problems('DROP TABLE IF EXISTS public.users; DELETE FROM "Secrets"; INSERT INTO birth_registry VALUES (1)', { rollback: 'DELETE FROM audit_log' });
    expect(p).toEqual([
      'step s1 apply, statement 1 `DROP TABLE IF EXISTS public.users`: relation public.users is outside the declared surface; add it to surface.tables, or change the SQL',
      'step s1 apply, statement 2 `DELETE FROM "Secrets"`: relation Secrets is outside the declared surface; add it to surface.tables, or change the SQL',
      'step s1 rollback, statement 1 `DELETE FROM audit_log`: relation audit_log is outside the declared surface; add it to surface.tables, or change the SQL',
    ]);
  });

  it('is no longer part of the structural schema (workflow code cannot load the parser): the schema accepts, containment refuses', async () => {
    const s = spec('DELETE FROM audit_log;');
    expect(changeSpecSchema.safeParse(s).success).toBe(true);
    expect(await sqlContainmentProblems(s)).toHaveLength(1);
  });

  it('follows relations into subqueries, CTE bodies, joins, FOREIGN KEYs, triggers and views, but not CTE names', async () => {
    expect(await problems('WITH users AS (SELECT 1) SELECT * FROM users, birth_registry')).toEqual([]);
    const p = await problems(
      'WITH x AS (SELECT * FROM secrets) UPDATE birth_registry SET origin = (SELECT max(v) FROM x JOIN public.users ON true); ' +
        'ALTER TABLE birth_registry ADD COLUMN owner int REFERENCES accounts(id); CREATE VIEW v AS SELECT * FROM birth_registry',
    );
    expect(p.map((m) => m.match(/relation (\S+) is outside/)?.[1]).sort()).toEqual(['accounts', 'public.users', 'secrets', 'v']);
  });

  it('counts built-in and surface functions as inside; any other function is outside', async () => {
    expect(await problems("SELECT lower(origin), count(*), now(), pg_catalog.upper('x'), fn_birth_register('a', 'b'), public.fn_birth_register('c', 'd') FROM birth_registry GROUP BY 1")).toEqual([]);
    expect(await problems('SELECT wipe_everything()')).toEqual(['step s1 apply, statement 1 `SELECT wipe_everything()`: function wipe_everything is outside the declared surface (not a built-in function); add it to surface.functions, or change the SQL']);
    expect(await problems('SELECT other.lower(origin) FROM birth_registry')).toEqual([expect.stringMatching(/function other\.lower is outside .*the surface is schema public/)]);
  });

  it("reads SQL and PL/pgSQL bodies: a function the step creates runs with the step's reach", async () => {
    expect(await problems('CREATE FUNCTION fn_birth_register(p text) RETURNS void LANGUAGE sql AS $$ DELETE FROM users $$')).toEqual([expect.stringMatching(/relation users is outside/)]);
    expect(await problems('CREATE FUNCTION fn_birth_register() RETURNS bigint LANGUAGE sql BEGIN ATOMIC SELECT count(*) FROM users; END')).toEqual([expect.stringMatching(/relation users is outside/)]);
    const plpgsql = `CREATE FUNCTION fn_birth_register() RETURNS int LANGUAGE plpgsql AS $b$
      DECLARE n int := (SELECT count(*) FROM t_default); arr int[];
      BEGIN
        arr[1] := (SELECT count(*) FROM t_assign);
        PERFORM other_fn();
        FOR n IN SELECT 1 FROM t_loop LOOP NULL; END LOOP;
        IF EXISTS (SELECT 1 FROM t_cond) THEN INSERT INTO birth_registry (object_id) VALUES ('x'); END IF;
        RETURN n;
      END $b$`;
    const found = (await problems(plpgsql)).map((m) => m.match(/(relation|function) (\S+) is outside/)?.[2]);
    expect(found.sort()).toEqual(['other_fn', 't_assign', 't_cond', 't_default', 't_loop']);
    expect(await problems('CREATE FUNCTION fn_birth_register() RETURNS void LANGUAGE plpgsql AS $$ BEGIN COMMIT; END $$')).toEqual([expect.stringMatching(/COMMIT in a PL\/pgSQL body \(transaction control\)/)]);
    expect(await problems("CREATE FUNCTION fn_birth_register() RETURNS int LANGUAGE plpython3u AS 'return 1'")).toEqual([expect.stringMatching(/language plpython3u, which cannot be analysed \(dynamic SQL/)]);
    expect(await problems("CREATE FUNCTION fn_birth_register() RETURNS int LANGUAGE c AS 'libc', 'system'")).toEqual([expect.stringMatching(/language c \(server code\) \(a server-level operation\)/)]);
  });

  it("refuses Gated Lanes' bookkeeping schema in every form", async () => {
    for (const sql of ['DELETE FROM gated_lanes.applied_steps', 'DROP SCHEMA gated_lanes', 'ALTER TABLE birth_registry SET SCHEMA gated_lanes', 'SELECT * FROM gated_lanes.target_identity']) {
      expect(await problems(sql), sql).toEqual([expect.stringMatching(/in Gated Lanes' bookkeeping schema; steps may not touch schema gated_lanes/)]);
    }
  });

  it('refuses a renamed surface table: its new name is outside the surface', async () => {
    expect(await problems('ALTER TABLE birth_registry RENAME TO users')).toEqual([expect.stringMatching(/relation users is outside/)]);
    expect(await problems('ALTER TABLE birth_registry RENAME COLUMN origin TO source')).toEqual([]);
  });

  it('names PostgreSQL\'s own parse error with its character, and a comment-only step', async () => {
    expect(await problems("SELECT 'unterminated")).toEqual([expect.stringMatching(/^step s1 apply, PostgreSQL's parser refuses it at character 8: unterminated quoted string/)]);
    expect(await problems('-- nothing to run')).toEqual(['step s1 apply, has no SQL statement (only comments or whitespace); write the SQL the step runs']);
  });
});

describe('SQL containment: refused statement classes', () => {
  it.each(ISSUE_PAYLOADS)('refuses the issue payload: $name', async ({ sql, reason }) => {
    const p = await problems(sql);
    expect(p.length).toBeGreaterThan(0);
    expect(p.join('\n')).toMatch(reason);
    expect(p.every((m) => m.startsWith('step s1 apply, '))).toBe(true);
  });

  it.each([
    ['BEGIN', /BEGIN \(transaction control\)/],
    ['ROLLBACK', /ROLLBACK \(transaction control\)/],
    ['RELEASE SAVEPOINT a', /RELEASE \(transaction control\)/],
    ['SET TRANSACTION READ WRITE', /SET TRANSACTION \(transaction control\)/],
    ['SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE', /SET SESSION CHARACTERISTICS \(transaction control\)/],
    ['RESET ALL', /RESET ALL \(session state\)/],
    ['SET ROLE postgres', /SET role \(session state\)/],
    ['SET SESSION AUTHORIZATION postgres', /SET session_authorization \(session state\)/],
    ['SET LOCAL transaction_read_only = off', /SET transaction_read_only \(session state\)/],
    ['RESET default_transaction_read_only', /RESET default_transaction_read_only \(session state\)/],
    ['SET search_path = evil, public', /SET search_path \(session state\)/],
    ['SET work_mem = 1000000', /SET work_mem \(session state\); use SET LOCAL/],
    ["SELECT set_config('default_transaction_read_only', 'off', false)", /set_config\('default_transaction_read_only', …\) \(session state\)/],
    ['PREPARE p AS SELECT 1', /PREPARE \(session state\)/],
    ['ALTER SYSTEM SET fsync = off', /ALTER SYSTEM \(a server-level operation\)/],
    ["LOAD 'auto_explain'", /LOAD \(a server-level operation\)/],
    ["COPY birth_registry FROM PROGRAM 'curl x'", /COPY … PROGRAM \(a server-level operation\)/],
    ["COPY birth_registry TO '/tmp/x'", /COPY to or from a server file \(a server-level operation\)/],
    ["SELECT pg_read_file('/etc/passwd')", /function pg_read_file \(a server-level operation\)/],
    ["SELECT dblink_exec('dbname=prod', 'DELETE FROM users')", /function dblink_exec \(a server-level operation\)/],
    ['CHECKPOINT', /CHECKPOINT \(a server-level operation\)/],
    ['CREATE EXTENSION dblink', /CREATE EXTENSION \(an extension statement\); add "extensions" to surface\.allow/],
    ['GRANT SELECT ON birth_registry TO app', /GRANT \(a role or privilege statement\)/],
    ['CREATE ROLE intruder SUPERUSER', /CREATE ROLE \(a role or privilege statement\)/],
    ['DROP DATABASE prod', /DROP DATABASE \(a database-level statement\)/],
    ["SELECT query_to_xml('DELETE FROM users', true, false, '')", /function query_to_xml \(runs SQL or reads relations given as text\) \(dynamic SQL/],
    ['VACUUM birth_registry', /VACUUM \(a maintenance statement\); add "maintenance" to surface\.allow/],
    ['DROP TABLE birth_registry CASCADE', /CASCADE \(a cascade to objects the step does not name\)/],
    ['CREATE TYPE mood AS ENUM (\'ok\')', /CREATE ENUM \(not supported in a step\)/],
  ])('refuses %s', async (sql, reason) => {
    expect((await problems(sql)).join('\n')).toMatch(reason);
  });

  it('allows SET LOCAL of an ordinary setting, and set_config local', async () => {
    expect(await problems("SET LOCAL work_mem = '64MB'; SELECT set_config('work_mem', '64MB', true)")).toEqual([]);
  });

  it('lifts exactly the exception surface.allow names, and still checks the surface inside it', async () => {
    const doBlock = "DO $$ BEGIN UPDATE birth_registry SET origin = 'x'; EXECUTE 'SELECT 1'; END $$";
    expect(await problems(doBlock)).toHaveLength(2);
    expect(await problems(doBlock, { allow: ['dynamic-sql'] })).toEqual([]);
    expect(await problems("DO $$ BEGIN DELETE FROM users; END $$", { allow: ['dynamic-sql'] })).toEqual([expect.stringMatching(/relation users is outside/)]);
    expect(await problems('GRANT SELECT ON birth_registry TO app', { allow: ['roles'] })).toEqual([]);
    expect(await problems('GRANT SELECT ON users TO app', { allow: ['roles'] })).toEqual([expect.stringMatching(/relation users is outside/)]);
    expect(await problems('ALTER ROLE app SUPERUSER', { allow: ['database'] })).toHaveLength(1);
    // No exception lifts transaction control, session state or server-level statements.
    expect(await problems('COMMIT; SET ROLE postgres; ALTER SYSTEM SET fsync = off', { allow: ['dynamic-sql', 'roles', 'database', 'extensions', 'maintenance'] })).toHaveLength(3);
  });

  it('refuses a duplicated or unknown exception in the spec itself', () => {
    const bad = (allow: unknown) => changeSpecSchema.safeParse({ ...spec('SELECT 1'), surface: { ...SURFACE, allow } }).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(bad(['roles', 'roles'])).toEqual(['surface.allow: lists an exception twice; list each once']);
    expect(bad(['everything'])?.[0]).toMatch(/^surface\.allow\.0: /);
  });
});

describe('SQL containment where a change file is read (CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lanes-containment-'));
  const file = join(dir, 'escape.yaml');
  writeFileSync(
    file,
    'v: 1\nid: escape\ntitle: t\nsurface:\n  tables: [birth_registry]\nsteps:\n  - id: s1\n    action: APPLY\n    apply: "SELECT 1; DELETE FROM/**/users"\n    rollback: "SELECT 1"\n',
  );

  it('readContainedChangeSpec names file, line, field, step and statement', async () => {
    const err = await readContainedChangeSpec(file).then(() => undefined, (e: Error) => e);
    expect(err?.message).toMatch(/escape\.yaml:9: steps\.0\.apply \(step s1\): statement 2 `DELETE FROM\/\*\*\/users`: relation users is outside the declared surface; add it to surface\.tables/);
    expect(err?.message).toMatch(/`lanes change validate .*escape\.yaml` re-checks/);
    expect((await readContainedChangeSpec(DEMO_CHANGE)).id).toBe('demo-birth-registry');
  });

  it('`lanes change validate` exits 1 with that message', async () => {
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) =>
      execFile(process.execPath, [join(__dirname, '..', '..', 'bin', 'lanes.js'), 'change', 'validate', file], { timeout: 60_000 }, (e, _out, stderr) =>
        resolve({ code: e ? (e as { code?: number }).code ?? 1 : 0, stderr }),
      ),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/steps\.0\.apply \(step s1\): statement 2 .*relation users is outside the declared surface/);
  });
});
