/**
 * Rehearsal isolation (src/domain/isolation.ts): a PostgreSQL clone must be on another cluster than production
 * unless the spec declares otherwise, never with role or database exceptions; a PGlite clone is its own instance.
 * The rehearsal's evidence says which isolation was checked.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChangeSpec } from '../../src/domain/change-spec';
import { checkIsolation, type TargetIdentity } from '../../src/domain/isolation';
import type { AuthorizedWork } from '../../src/activities/lane-request';
import { rehearse } from '../../src/activities/rehearsal';
import { closeTargets } from '../../src/activities/targets/open';
import { ENGINES, makeProduction, postgresSkipped, REGISTRY_SEED, REGISTRY_SURFACE, type TestProduction } from '../support/targets';

const pgId = (system: string | null, database: string, instance: string | null = null): TargetIdentity => ({ engine: 'postgres', system, database, instance });

describe('checkIsolation', () => {
  it('accepts another cluster, and a separate PGlite instance', () => {
    expect(checkIsolation(pgId('1', 'prod:5'), pgId('2', 'clone:6'))).toMatchObject({ ok: true, kind: 'other-cluster' });
    const lite = (instance: string): TargetIdentity => ({ engine: 'pglite', system: null, database: 'x', instance });
    expect(checkIsolation(lite('a'), lite('b'))).toMatchObject({ ok: true, kind: 'separate-pglite-instance' });
  });

  it("refuses production's own cluster unless declared, and always when roles or databases are allowed", () => {
    expect(checkIsolation(pgId('1', 'prod:5'), pgId('1', 'clone:6'))).toEqual({ ok: false, problem: expect.stringMatching(/production's own cluster .*declare targets\.clone\.sameClusterAsProduction/) });
    expect(checkIsolation(pgId('1', 'prod:5'), pgId('1', 'clone:6'), { sameClusterDeclared: true })).toMatchObject({ ok: true, kind: 'same-cluster-declared' });
    expect(checkIsolation(pgId('1', 'prod:5'), pgId('1', 'clone:6'), { sameClusterDeclared: true, allow: ['dynamic-sql', 'roles'] })).toEqual({ ok: false, problem: expect.stringMatching(/surface\.allow lets steps run roles statements/) });
  });

  it('refuses a cluster it cannot identify, and production itself', () => {
    expect(checkIsolation(pgId(null, 'prod:5'), pgId('2', 'clone:6'))).toEqual({ ok: false, problem: expect.stringMatching(/system identifier of production cannot be read/) });
    expect(checkIsolation(pgId('1', 'prod:5'), pgId('1', 'prod:5'), { sameClusterDeclared: true })).toEqual({ ok: false, problem: expect.stringMatching(/the clone is production/) });
  });
});

const STEPS: ChangeSpec['steps'] = [{ id: 'add-col', action: 'APPLY', apply: 'ALTER TABLE birth_registry ADD COLUMN v int', rollback: 'ALTER TABLE birth_registry DROP COLUMN v' }];
const made: TestProduction[] = [];
afterAll(async () => {
  await closeTargets();
  await Promise.all(made.map((p) => p.drop()));
});

/** A production-shaped rehearsal's request: the clone starts with production's table. */
const work = (change: ChangeSpec) => ({ workflowId: `wf-${Math.random().toString(36).slice(2)}`, runId: 'r', specHash: '0'.repeat(64), change, grants: [], trustRootFingerprint: 't', shaped: true }) as unknown as AuthorizedWork;
const isolationOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'rehearsal.json'), 'utf8')).isolation;

describe.each(ENGINES)('%s rehearsal isolation', (engine) => {
  it('records which isolation it checked', async () => {
    const p = await makeProduction(engine, { v: 1, id: 'iso', title: 'iso', surface: REGISTRY_SURFACE, steps: STEPS }, REGISTRY_SEED);
    made.push(p);
    const iso = isolationOf((await rehearse(p.place, work(p.change))).dir);
    expect(iso.checked).toBe(engine === 'postgres' ? 'same-cluster-declared' : 'separate-pglite-instance');
    expect(iso.detail).toMatch(engine === 'postgres' ? /sameClusterAsProduction/ : /PGlite instance in memory/);
  });
});

describe.skipIf(postgresSkipped !== undefined)('postgres: a clone on production\'s own cluster', () => {
  it('is refused without the declaration, and with it when the surface allows roles', async () => {
    const p = await makeProduction('postgres', { v: 1, id: 'iso2', title: 'iso2', surface: REGISTRY_SURFACE, steps: STEPS }, REGISTRY_SEED);
    made.push(p);
    const { sameClusterAsProduction: _declared, ...clone } = p.change.targets!.clone!;
    const undeclared = { ...p.change, targets: { ...p.change.targets!, clone } };
    const err = await rehearse(p.place, work(undeclared)).then(() => undefined, (e: Error) => e);
    expect(err?.message).toMatch(/the clone is on production's own cluster \(system \d+\)/);
    const withRoles = { ...p.change, surface: { ...REGISTRY_SURFACE, allow: ['roles' as const] } };
    expect((await rehearse(p.place, work(withRoles)).then(() => undefined, (e: Error) => e))?.message).toMatch(/act on the whole cluster/);
  });
});
