/** An armed step's preconditions run on production: PostgreSQL's parser must see one plain read in each. */
import { describe, expect, it } from 'vitest';
import { loadSqlParser } from '../../src/sql/parser';
import { preconditionProblems } from '../../src/sql/preconditions';
import { sqlContainmentProblems } from '../../src/sql/containment';
import { readChangeSpecForTest } from '../support/fixtures';

const surface = { tables: ['birth_registry'], functions: ['fn_birth_register'] };

describe('precondition SQL', () => {
  it('accepts one SELECT over the surface or the system catalog, with built-in functions', async () => {
    await loadSqlParser();
    expect(preconditionProblems("SELECT count(*) FROM pg_catalog.pg_class WHERE relname = 'cutover_blocker'", surface)).toEqual([]);
    expect(preconditionProblems("SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = 'legacy-writer'", surface)).toEqual([]);
    expect(preconditionProblems('SELECT coalesce(max(extract(epoch FROM now() - query_start)), 0) < 5 FROM pg_locks l JOIN pg_stat_activity a USING (pid)', surface)).toEqual([]);
    expect(preconditionProblems('SELECT count(*) FROM birth_registry', surface)).toEqual([]);
  });

  it.each([
    ['DELETE FROM birth_registry', /is a DELETE statement; a precondition is one SELECT/],
    ['SELECT 1; SELECT 2', /is 2 statements/],
    ['SELECT pg_terminate_backend(pid) FROM pg_stat_activity', /pg_terminate_backend/],
    ['SELECT pg_advisory_lock(1)', /pg_advisory_lock/],
    // Session and transaction locks of every spelling, which a read-only transaction does not stop.
    ['SELECT pg_try_advisory_lock(1)', /pg_try_advisory_lock/],
    ['SELECT pg_try_advisory_lock_shared(1)', /pg_try_advisory_lock_shared/],
    ['SELECT pg_advisory_xact_lock(1)', /pg_advisory_xact_lock/],
    ["SELECT nextval('s')", /calls nextval, which has effects a read-only transaction does not stop/],
    ["SELECT pg_notify('c', 'x')", /calls pg_notify/],
    ['SELECT pg_sleep(30)', /calls pg_sleep/],
    // A failing precondition's result lands in history: no secrets.
    ['SELECT rolpassword FROM pg_authid', /reads pg_authid, which holds secrets/],
    ['SELECT passwd FROM pg_shadow', /reads pg_shadow, which holds secrets/],
    ['SELECT * FROM birth_registry FOR UPDATE', /takes row locks/],
    ['WITH d AS (DELETE FROM birth_registry RETURNING 1) SELECT count(*) FROM d', /modifies data in a WITH clause/],
    ['SELECT count(*) FROM accounts', /relation accounts is outside the declared surface/],
    ['SELECT count(*) FROM gated_lanes.applied_steps', /bookkeeping schema/],
    ["SELECT set_config('search_path', 'x', false)", /set_config|session/],
    ['SELECT FROM', /parser refuses it|SELECT/],
  ])('refuses %s', async (sql, why) => {
    await loadSqlParser();
    const problems = preconditionProblems(sql, surface);
    expect(problems.length, sql).toBeGreaterThan(0);
    expect(problems.join('\n')).toMatch(why);
  });

  it('is part of the spec containment check, naming step and precondition', async () => {
    const base = readChangeSpecForTest();
    const spec = { ...base, steps: [{ ...base.steps[0]!, window: '15m', preconditions: [{ name: 'kill others', sql: 'SELECT pg_terminate_backend(42)', expect: true }] }, base.steps[1]!] };
    expect((await sqlContainmentProblems(spec)).join('\n')).toMatch(/step qt001-apply precondition, "kill others": function pg_terminate_backend/);
  });
});
