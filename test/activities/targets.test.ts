/**
 * One suite, both engines (Targets issue): every proof runs against the embedded PGlite and a real PostgreSQL
 * server, through the same target interface the lanes use. The Postgres half skips, loudly, only when the test
 * server could not be started (see the global setup's banner).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { productionTarget, type ChangeSpec } from '../../src/domain/change-spec';
import { isolationProblem } from '../../src/domain/isolation';
import { rehearse } from '../../src/activities/rehearsal';
import { dryRun, precheck } from '../../src/activities/production-reads';
import { createProductionActivities, type ProductionStepResult } from '../../src/activities/production';
import { surfaceFingerprint, type SurfaceFingerprint } from '../../src/activities/targets/fingerprint';
import { closeTargets, openProduction } from '../../src/activities/targets/open';
import { openPgliteCount } from '../../src/activities/targets/pglite';
import { postgresProduction } from '../../src/activities/targets/postgres';
import type { AuthorizedWork } from '../../src/activities/lane-request';
import { markAuthorized } from '../../src/activities/authorized';
import { specHashOf } from '../../src/domain/bindings';
import type { AuthorizedStep } from '../../src/worker/point-of-action';
import { ENGINES, makeProduction, postgresSkipped, REGISTRY_SEED, REGISTRY_SURFACE, type TestProduction } from '../support/targets';

const made: TestProduction[] = [];
afterAll(async () => {
  await closeTargets();
  await Promise.all(made.map((p) => p.drop()));
});

const STEPS: ChangeSpec['steps'] = [
  { id: 'add-verified', action: 'APPLY', apply: 'ALTER TABLE birth_registry ADD COLUMN verified boolean NOT NULL DEFAULT false;', rollback: 'ALTER TABLE birth_registry DROP COLUMN verified;' },
  {
    id: 'register-lane-object',
    action: 'ACTIVATION',
    apply: "SELECT fn_birth_register('obj-new', 'lane'); UPDATE birth_registry SET weight = 1 WHERE object_id = 'obj-new';",
    rollback: "DELETE FROM birth_registry WHERE object_id = 'obj-new';",
  },
];
const BASE: ChangeSpec = { v: 1, id: 'targets-suite', title: 'targets suite', surface: REGISTRY_SURFACE, steps: STEPS };

async function production(engine: (typeof ENGINES)[number], steps = STEPS): Promise<TestProduction> {
  const p = await makeProduction(engine, { ...BASE, steps }, REGISTRY_SEED);
  made.push(p);
  return p;
}

/** What a lane activity body works with once the point of action let it through (tested on its own elsewhere). */
const request = (p: TestProduction, over: Partial<AuthorizedWork> = {}): AuthorizedWork => ({
  workflowId: `wf-${Math.random().toString(36).slice(2)}`,
  runId: 'run-1',
  change: p.change,
  specHash: specHashOf(p.change),
  grants: [],
  trustRootFingerprint: 'test-trust-root',
  ...over,
});

/** A production step request as the point of action hands it over: the bodies refuse one it did not verify. */
const verifiedStep = (p: TestProduction, stepId: string, workflowId: string, runId: string) => {
  const req = { change: p.change, stepId, start: null, grants: [], blockerState: null };
  const step = p.change.steps.find((s) => s.id === stepId)!;
  const auth: AuthorizedStep = { ok: true, lane: 'execution', change: p.change, specHash: specHashOf(p.change), operator: { keyId: 'k', name: 'op' }, grants: [], caller: { workflowId, runId, workflowType: 'executionLane' }, step, recheck: async () => undefined } as never;
  markAuthorized(req, auth);
  return req;
};

const fingerprintOf = async (p: TestProduction): Promise<SurfaceFingerprint> => (await openProduction(p.lanesHome, p.change)).session((s) => surfaceFingerprint(s, REGISTRY_SURFACE));
const packetFiles = (dir: string) => Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
const failureOf = async (p: Promise<unknown>) => {
  const err = await p.then(() => undefined, (e: unknown) => e as Error);
  if (!err) throw new Error('expected the proof to fail closed, but it passed');
  return err.message;
};

if (postgresSkipped) {
  describe.skip(`PostgreSQL target suite SKIPPED: ${postgresSkipped.split('\n')[0]}`, () => it('needs the test PostgreSQL server', () => undefined));
}

describe('PGlite productions in one worker process', () => {
  it('keeps at most 4 open; a closed one reopens from disk with its data and identity', async () => {
    const made6 = await Promise.all([0, 1, 2, 3, 4, 5].map(() => makeProduction('pglite', BASE, 'CREATE TABLE birth_registry (n int); INSERT INTO birth_registry VALUES (7);')));
    made.push(...made6);
    const ids = [];
    for (const p of made6) ids.push(await (await openProduction(p.lanesHome, p.change)).identity());
    expect(openPgliteCount()).toBeLessThanOrEqual(4);
    const first = await openProduction(made6[0]!.lanesHome, made6[0]!.change);
    expect(await first.session((s) => s.query('SELECT n FROM birth_registry'))).toEqual([{ n: 7 }]);
    expect(await first.identity()).toEqual(ids[0]);
    expect(openPgliteCount()).toBeLessThanOrEqual(4);
  });
});

describe('surface fingerprint across engines', () => {
  it.skipIf(ENGINES.length < 2)('is identical on PGlite and PostgreSQL for the same schema and rows, and per-table counts are recorded', async () => {
    const [lite, real] = [await production('pglite'), await production('postgres')];
    const [a, b] = [await fingerprintOf(lite), await fingerprintOf(real)];
    expect(a.tables.birth_registry!.rows).toBe(3);
    expect(a.tables.birth_registry!.schema!.indexes.map((i) => i.name)).toEqual(['birth_registry_note_key', 'birth_registry_origin_idx', 'birth_registry_pkey']);
    expect(a.tables.birth_registry!.schema!.triggers.map((t) => t.name)).toEqual(['birth_registry_touch']);
    expect(b).toEqual(a);
    // And it is sensitive: one changed cell on one engine breaks the equality.
    await (await openProduction(real.lanesHome, real.change)).session((s) => s.exec("UPDATE birth_registry SET ratio = 0.1000000001 WHERE object_id = 'obj-1'"));
    const c = await fingerprintOf(real);
    expect(c.hash).not.toBe(a.hash);
    expect(c.schemaHash).toBe(a.schemaHash);
  });
});

describe.each(ENGINES)('%s target', (engine) => {
  it('identifies production; a second connection to the same database is refused as a clone', async () => {
    const p = await production(engine);
    const prod = await openProduction(p.lanesHome, p.change);
    const id = await prod.identity();
    expect(id.engine).toBe(engine);
    if (engine === 'postgres') {
      // Another URL form for the same database (localhost instead of 127.0.0.1) is still production.
      const other = postgresProduction(p.url!.replace('127.0.0.1', 'localhost'));
      expect(isolationProblem(id, await other.identity())).toMatch(/the clone is production/);
    } else {
      expect(isolationProblem(id, await prod.identity())).toMatch(/the clone is production/);
    }
  });

  it('proves the rehearsal on a production-shaped clone: BEGIN…ROLLBACK, apply ≠ before, rollback == before, restore == before', async () => {
    const p = await production(engine);
    const before = await fingerprintOf(p);
    const ref = await rehearse(p.place, request(p, { shaped: true }));
    const files = packetFiles(ref.dir);
    const r = JSON.parse(files['rehearsal.json']!);
    expect(r.proof.status).toBe('PASSED');
    expect(r.proof.afterApply).not.toBe(r.proof.before);
    expect([r.proof.afterTransactional, r.proof.afterRollback, r.proof.afterRestore]).toEqual([r.proof.before, r.proof.before, r.proof.before]);
    // The clone was production-shaped: it started with production's rows, and production's schema.
    expect(r.proof.before).toBe(before.hash);
    expect(JSON.parse(files['schema-compatibility.json']!)).toMatchObject({ equal: true, productionSchema: before.schemaHash });
    const provenance = JSON.parse(files['clone-provenance.json']!);
    expect(provenance).toMatchObject({ kind: 'production-shaped', sourceIdentity: await (await openProduction(p.lanesHome, p.change)).identity() });
    expect(provenance.method).toMatch(engine === 'postgres' ? /pg_dump/ : /copy of production's PGlite data directory/);
    const fps = JSON.parse(files['fingerprints.json']!);
    expect(fps.afterApply.tables.birth_registry.rows).toBe(4);
    expect(fps.afterRollback.tables.birth_registry).toEqual(before.tables.birth_registry);
    // Production was only read.
    expect((await fingerprintOf(p)).hash).toBe(before.hash);
    if (p.url) {
      const password = decodeURIComponent(new URL(p.url).password);
      expect(password.length).toBeGreaterThan(0);
      for (const [name, text] of Object.entries(files)) expect(text.includes(password), `${name} holds the password`).toBe(false);
    }
  });

  it('reports each stage of the proof as activity heartbeats (what `lanes status` shows as "working on")', async () => {
    const p = await production(engine);
    const env = new MockActivityEnvironment();
    const stages: string[] = [];
    env.on('heartbeat', (d: { stage: string }) => stages.push(d.stage));
    await env.run(rehearse, p.place, request(p, { shaped: true }));
    expect(stages).toEqual(['cloning production (dump and load)', 'fingerprinting the surface (before)', 'BEGIN … ROLLBACK pass', 'snapshot, then committed apply and rollback SQL', 'restoring the snapshot']);
  });

  it('fails closed, naming the table, when the rollback does not restore the rows exactly', async () => {
    const bad = [STEPS[0]!, { ...STEPS[1]!, rollback: "DELETE FROM birth_registry WHERE object_id IN ('obj-new', 'obj-2');" }];
    const p = await production(engine, bad);
    const message = await failureOf(rehearse(p.place, request(p, { shaped: true })));
    expect(message).toMatch(/the rollback SQL did not restore the surface exactly: table birth_registry \(rows: 3 → 2\)/);
  });

  it('fails closed when the steps change nothing (the rollback would prove nothing)', async () => {
    const p = await production(engine, [{ id: 'noop', action: 'APPLY', apply: 'SELECT count(*) FROM birth_registry;', rollback: 'SELECT 1 FROM birth_registry;' }]);
    expect(await failureOf(rehearse(p.place, request(p, { shaped: true })))).toMatch(/after_apply == before/);
  });

  it('dry-run: EXPLAINs each statement, catches the writes, captures read-only and role; production unchanged', async () => {
    const p = await production(engine);
    const before = await fingerprintOf(p);
    const ref = await dryRun(p.place, request(p));
    const d = JSON.parse(readFileSync(join(ref.dir, 'dry-run.json'), 'utf8'));
    expect(d.transactionReadOnly).toBe('on');
    expect(d.role).toBe(engine === 'postgres' ? 'lanes_test' : 'postgres');
    expect(d.entry).toBe(d.exit);
    expect(d.entry).toBe(before.hash);
    expect(d.steps.map((s: { wouldWrite: boolean }) => s.wouldWrite)).toEqual([true, true]);
    const [select, update] = d.steps[1].statements;
    expect(select.sql).toBe("SELECT fn_birth_register('obj-new', 'lane')");
    expect(select.explain.join('\n')).toMatch(/Result/);
    expect(select.caught).toMatch(/read-only transaction/);
    expect(update.explain[0]).toMatch(/^Update on birth_registry/);
    expect(d.steps[0].statements[0].explainError).toBeTruthy(); // DDL has no plan; the engine refused it instead
    expect(d.steps[0].statements[0].caught).toMatch(/read-only transaction/);
    expect(await fingerprintOf(p)).toEqual(before);
  });

  it("evidence names production without this machine's paths (a PGlite production relative to LANES_HOME)", async () => {
    const p = await production(engine);
    const ref = await dryRun(p.place, request(p));
    const files = readdirSync(ref.dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    expect(files.length).toBeGreaterThan(1);
    for (const f of files) expect(readFileSync(join(f.parentPath, f.name), 'utf8'), f.name).not.toContain(p.lanesHome);
    const d = JSON.parse(readFileSync(join(ref.dir, 'dry-run.json'), 'utf8'));
    if (engine === 'pglite') {
      expect(d.production.target).toBe(`pglite:$LANES_HOME/targets/${(productionTarget(p.change) as { name: string }).name}`);
      expect(d.production.identity.database).toBe(d.production.target);
    }
  });

  it('precheck passes on an untouched production, applies each step once (idempotent), then refuses', async () => {
    const p = await production(engine);
    await precheck(p.place, request(p));
    const { applyProductionStep } = createProductionActivities({ lanesHome: p.lanesHome });
    const env = new MockActivityEnvironment({ workflowExecution: { workflowId: 'wf-exec', runId: 'r1' } });
    const req = verifiedStep(p, 'add-verified', 'wf-exec', 'r1');
    const first = (await env.run(applyProductionStep, req)) as ProductionStepResult;
    const again = (await env.run(applyProductionStep, req)) as ProductionStepResult;
    expect([first.appliedNow, again.appliedNow]).toEqual([true, false]);
    const fp = await fingerprintOf(p);
    expect(fp.tables.birth_registry!.schema!.columns.filter((c) => c.name === 'verified')).toHaveLength(1);
    expect(await failureOf(precheck(p.place, request(p)))).toMatch(/steps already applied to production: add-verified \(by wf-exec\)/);
  });

  it('a step whose SQL fails is not retried (ProductionStepFailed) and leaves neither its effect nor its claim', async () => {
    const p = await production(engine, [{ id: 'broken', action: 'APPLY', apply: "INSERT INTO birth_registry (object_id, origin) VALUES ('obj-x', 'lane'); SELECT no_such_function();", rollback: "DELETE FROM birth_registry WHERE object_id = 'obj-x';" }]);
    const { applyProductionStep } = createProductionActivities({ lanesHome: p.lanesHome });
    const env = new MockActivityEnvironment({ workflowExecution: { workflowId: 'wf-broken', runId: 'r1' } });
    const err = (await env.run(applyProductionStep, verifiedStep(p, 'broken', 'wf-broken', 'r1')).catch((e: unknown) => e)) as ApplicationFailure;
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect([err.type, err.nonRetryable]).toEqual(['ProductionStepFailed', true]);
    expect(err.message).toMatch(/step broken: its SQL failed on production: .*no_such_function/);
    const db = await openProduction(p.lanesHome, p.change);
    expect(await db.session((s) => s.query("SELECT 1 FROM birth_registry WHERE object_id = 'obj-x'"))).toEqual([]);
    expect(await db.session((s) => s.query("SELECT 1 FROM gated_lanes.applied_steps WHERE workflow_id = 'wf-broken'"))).toEqual([]);
  });
});
