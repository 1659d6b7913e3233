/**
 * Issue 12's payloads against real engines: each is refused by every lane activity that would run or read it
 * (rehearse, dryRun, precheck — production's own step activity is wired separately), before anything touches a
 * database, on PGlite and on the test PostgreSQL server; production's fingerprint (of the surface AND of `users`,
 * the table the payloads aim at) is unchanged and, on PostgreSQL, the `app` role can still log in.
 *
 * And the dry-run's own guards: one parsed statement at a time through the extended protocol (which both engines
 * make refuse two statements in one message), statement_timeout / lock_timeout, strings read the way the check
 * parsed them, and the spec's read-only role.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ChangeSpec } from '../../src/domain/change-spec';
import type { AuthorizedWork } from '../../src/activities/lane-request';
import { dryRun, precheck } from '../../src/activities/production-reads';
import { rehearse } from '../../src/activities/rehearsal';
import { surfaceFingerprint } from '../../src/activities/targets/fingerprint';
import { closeTargets, openProduction } from '../../src/activities/targets/open';
import { postgresSession } from '../../src/activities/targets/postgres';
import { ENGINES, makeProduction, REGISTRY_SEED, REGISTRY_SURFACE, type Engine, type TestProduction } from '../support/targets';
import { ISSUE_PAYLOADS } from './payloads';

const postgres = inject('postgres');
const adminUrl = 'adminUrl' in postgres ? postgres.adminUrl : undefined;
const SEED = `${REGISTRY_SEED}\nCREATE TABLE users (id int PRIMARY KEY, name text); INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, 5) g;`;
/** What the payloads aim at, fingerprinted as if it were the surface. */
const WATCHED = { tables: ['birth_registry', 'users'], functions: ['fn_birth_register'] };
const BASE: ChangeSpec = { v: 1, id: 'attacks', title: 'attacks', surface: REGISTRY_SURFACE, steps: [] };

const made: TestProduction[] = [];
afterAll(async () => {
  await closeTargets();
  await Promise.all(made.map((p) => p.drop()));
});

const productions = new Map<Engine, TestProduction>();
beforeAll(async () => {
  for (const engine of ENGINES) {
    const p = await makeProduction(engine, BASE, SEED);
    made.push(p);
    productions.set(engine, p);
  }
  // The role the issue's payload locked out; cluster-wide, so created once by the superuser.
  if (adminUrl) await postgresSession(adminUrl, (s) => s.exec("DO $$ BEGIN CREATE ROLE app LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$"));
});

/** The work request a lane's activity gets; only the change matters to the checks here. */
const work = (p: TestProduction, steps: ChangeSpec['steps'], over: Partial<ChangeSpec> = {}) =>
  ({ workflowId: `wf-${Math.random().toString(36).slice(2)}`, runId: 'run-1', specHash: '0'.repeat(64), change: { ...p.change, ...over, steps }, grants: [], trustRootFingerprint: 'test' }) as unknown as AuthorizedWork;

const watched = async (p: TestProduction) => (await openProduction(p.lanesHome, p.change)).session((s) => surfaceFingerprint(s, WATCHED));

/** App can log in, and production's connection limit is as made, on PostgreSQL; nothing to check on PGlite. */
async function serverState(p: TestProduction): Promise<unknown> {
  if (!adminUrl) return null;
  return postgresSession(adminUrl, (s) =>
    s.query("SELECT (SELECT rolcanlogin FROM pg_roles WHERE rolname = 'app') AS app_login, (SELECT datconnlimit FROM pg_database WHERE datname = current_database()) AS limit_here"),
  );
}

const failureOf = async (run: Promise<unknown>) => {
  const err = await run.then(() => undefined, (e: unknown) => e as Error & { type?: string });
  if (!err) throw new Error('expected the activity to refuse, but it ran');
  return err;
};

describe.each(ENGINES)('%s: the issue payloads are refused where the SQL is used', (engine) => {
  it.each(ISSUE_PAYLOADS)('$name', async ({ sql, reason }) => {
    const p = productions.get(engine)!;
    const [before, server] = [await watched(p), await serverState(p)];
    expect(before.tables.users!.rows).toBe(5);
    const steps = [{ id: 'attack', action: 'APPLY' as const, apply: sql, rollback: 'SELECT 1' }];
    for (const activity of [() => dryRun(p.place, work(p, steps)), () => rehearse(p.place, work(p, steps)), () => precheck(p.place, work(p, steps))]) {
      const err = await failureOf(activity());
      expect(err.type).toBe('SqlNotContained');
      expect(err.message).toMatch(/step attack apply, /);
      expect(err.message).toMatch(reason);
    }
    expect(await watched(p)).toEqual(before);
    expect(await serverState(p)).toEqual(server);
  });
});

describe.each(ENGINES)('%s: the dry-run runs what the check parsed, read-only and bounded', (engine) => {
  it('the extended protocol refuses two statements in one message (what the dry-run relies on)', async () => {
    const p = productions.get(engine)!;
    const err = await failureOf((await openProduction(p.lanesHome, p.change)).session((s) => s.statement('SELECT 1; DELETE FROM users')));
    expect(err.message).toMatch(/cannot insert multiple commands into a prepared statement/);
    expect((await watched(p)).tables.users!.rows).toBe(5);
  });

  it('runs statements one at a time under the spec timeouts, with strings read as standard', async () => {
    const p = productions.get(engine)!;
    const timeouts = { statementMs: 300, lockMs: 150 };
    const production = { ...p.change.targets!.production, readTimeouts: timeouts } as NonNullable<ChangeSpec['targets']>['production'];
    const steps: ChangeSpec['steps'] = [
      {
        id: 'probe-settings',
        action: 'APPLY',
        // Each division by zero fires only when the setting is what the dry-run promises: the caught error is the proof.
        apply:
          "SELECT 1/0 FROM birth_registry WHERE current_setting('lock_timeout') = '150ms' LIMIT 1; " +
          "SELECT 1/0 FROM birth_registry WHERE current_setting('standard_conforming_strings') = 'on' LIMIT 1; " +
          `SELECT pg_sleep(${engine === 'postgres' ? 5 : 0.1}) FROM birth_registry LIMIT 1`,
        rollback: 'SELECT 1',
      },
    ];
    const started = Date.now();
    const ref = await dryRun(p.place, work(p, steps, { targets: { ...p.change.targets!, production } }));
    const d = JSON.parse(readFileSync(join(ref.dir, 'dry-run.json'), 'utf8'));
    const caught = d.steps[0].statements.map((s: { caught?: string }) => s.caught);
    expect(caught[0]).toMatch(/division by zero/);
    expect(caught[1]).toMatch(/division by zero/);
    if (engine === 'postgres') {
      expect(caught[2]).toMatch(/statement timeout/);
      expect(Date.now() - started).toBeLessThan(4_000);
    }
    expect(d.steps[0].statements.map((s: { sql: string }) => s.sql)).toHaveLength(3);
  });
});

describe.skipIf(!adminUrl)('postgres: the spec read-only role', () => {
  it('dry-run and precheck connect as targets.production.readOnlyUrlEnv', async () => {
    const p = productions.get('postgres')!;
    const role = `gl_ro_${Math.random().toString(36).slice(2, 8)}`;
    const db = new URL(p.url!).pathname.slice(1);
    await postgresSession(adminUrl!, (s) => s.exec(`CREATE ROLE ${role} LOGIN PASSWORD 'ro-secret'; GRANT CONNECT ON DATABASE ${db} TO ${role};`));
    const inDb = new URL(adminUrl!);
    inDb.pathname = `/${db}`;
    await postgresSession(inDb.toString(), (s) => s.exec(`GRANT USAGE ON SCHEMA public TO ${role}; GRANT SELECT ON birth_registry, users TO ${role};`));
    const roUrl = new URL(p.url!);
    roUrl.username = role;
    roUrl.password = 'ro-secret';
    process.env.GL_TEST_RO_URL = roUrl.toString();
    const targets = { ...p.change.targets!, production: { ...p.change.targets!.production, readOnlyUrlEnv: 'GL_TEST_RO_URL' } } as ChangeSpec['targets'];
    const steps: ChangeSpec['steps'] = [{ id: 'write', action: 'APPLY', apply: "UPDATE birth_registry SET origin = 'x'", rollback: 'SELECT 1' }];
    const ref = await dryRun(p.place, work(p, steps, { targets }));
    const d = JSON.parse(readFileSync(join(ref.dir, 'dry-run.json'), 'utf8'));
    expect(d.role).toBe(role);
    expect(d.steps[0].statements[0].caught).toMatch(/read-only transaction|permission denied/);
    const pre = await precheck(p.place, work(p, steps, { targets }));
    expect(JSON.parse(readFileSync(join(pre.dir, 'precheck.json'), 'utf8')).role).toBe(role);
  });
});
