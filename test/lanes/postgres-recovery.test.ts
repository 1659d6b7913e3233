/**
 * The way back and the moment of no return on a real PostgreSQL production, through the real dev server and
 * workers: an execution whose step 2 fails there is rolled back to the exact pre-execution fingerprint, and an armed
 * step whose live precondition fails (a connection from a named application is open) holds and applies nothing.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { closeTargets, openProduction } from '../../src/activities/targets/open';
import { surfaceFingerprint } from '../../src/activities/targets/fingerprint';
import { postgresSession } from '../../src/activities/targets/postgres';
import type { ChangeSpec } from '../../src/domain/change-spec';
import type { LaneStatus } from '../../src/domain/lane-status';
import { freshChange, grantEnvelope, productionQuery, runLaneWithGrants, startLane, useLaneSuite } from '../support/lanes';
import { makeProduction, postgresSkipped, type TestProduction } from '../support/targets';

const suite = useLaneSuite();
const made: TestProduction[] = [];
afterAll(async () => {
  await closeTargets();
  for (const p of made) await p.drop();
});

const fingerprint = async (c: ChangeSpec) => (await openProduction(suite.h.lanesHome, c)).session((s) => surfaceFingerprint(s, c.surface));
const applied = async (c: ChangeSpec) => (await productionQuery<{ step_id: string }>(suite.h.lanesHome, c, 'SELECT step_id FROM gated_lanes.applied_steps WHERE change_id = $1 ORDER BY applied_at', [c.id])).map((r) => r.step_id);

async function prepared(base: ChangeSpec): Promise<{ change: ChangeSpec; tree: string }> {
  const prod = await makeProduction('postgres', base, 'CREATE TABLE keep_me (id int PRIMARY KEY); INSERT INTO keep_me VALUES (1);');
  made.push(prod);
  const rehearsal = await runLaneWithGrants(suite.h, suite.keys, prod.change, 'rehearsal', ['AUTHORIZE_REHEARSAL']);
  expect(rehearsal.result.state).toBe('COMPLETED');
  expect((await runLaneWithGrants(suite.h, suite.keys, prod.change, 'precheck', ['AUTHORIZE_PRECHECK', 'OPT4_PRODUCTION'])).result.state).toBe('COMPLETED');
  return { change: prod.change, tree: rehearsal.result.evidence!.treeHash };
}

describe.skipIf(postgresSkipped !== undefined)(`recovery and armed steps on a real PostgreSQL production${postgresSkipped ? ` (SKIPPED: ${postgresSkipped.split('\n')[0]})` : ''}`, () => {
  it('a half-applied execution (step 2 fails on production) is rolled back to the exact pre-execution fingerprint', async () => {
    const { change, tree } = await prepared(freshChange({ blockers: false }));
    await productionQuery(suite.h.lanesHome, change, 'CREATE FUNCTION fn_birth_register(p_object_id text, p_origin text) RETURNS void LANGUAGE sql AS $$ SELECT 1 $$');
    const before = await fingerprint(change);
    const failed = await runLaneWithGrants(suite.h, suite.keys, change, 'execution', ['OPT4_PRODUCTION', 'REAL_RUN', 'APPLY', 'ACTIVATION']).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(WorkflowFailedError);
    expect(await applied(change)).toEqual(['qt001-apply']);
    expect((await fingerprint(change)).hash).not.toBe(before.hash);

    const { result } = await runLaneWithGrants(suite.h, suite.keys, change, 'rollback', ['OPT4_PRODUCTION', 'PROD_ROLLBACK'], { evidenceTree: tree });
    expect(result.state, result.failure).toBe('COMPLETED');
    expect((await fingerprint(change)).hash).toBe(before.hash);
    expect(JSON.parse(readFileSync(join(result.evidence!.dir, 'rollback.json'), 'utf8'))).toMatchObject({ restored: true, differences: [], after: before.hash });
    expect(await productionQuery(suite.h.lanesHome, change, 'SELECT id FROM keep_me')).toEqual([{ id: 1 }]);
  });

  it('an armed step whose precondition fails (a connection from a named application is open) holds and applies nothing', async () => {
    const base = freshChange({ blockers: false });
    const app = `legacy-writer-${base.id}`;
    const [first, ...rest] = base.steps;
    const armed = { ...base, steps: [{ ...first!, window: '1m', preconditions: [{ name: 'no legacy writer connected', sql: `SELECT count(*) FROM pg_stat_activity WHERE application_name = '${app}'`, expect: 0 }] }, ...rest] };
    const { change } = await prepared(armed);
    const url = new URL(process.env[(change.targets!.production as { urlEnv: string }).urlEnv]!);
    url.searchParams.set('application_name', app);
    // The named application holds a connection for as long as the lane runs. The window is long enough for the first
    // check to come well inside it on a loaded machine (at 5 s, a slow start saw only the lapse).
    await postgresSession(url.toString(), async (s) => {
      const { workflowId } = await startLane(suite.h, suite.keys, { lane: 'execution', change });
      const handle = suite.h.client.workflow.getHandle(workflowId);
      await handle.signal('grant', grantEnvelope(suite.keys, workflowId, change.id, 'execution', 'APPLY', { armWindowMs: 20_000 }));
      for (const a of ['OPT4_PRODUCTION', 'REAL_RUN', 'ACTIVATION'] as const) await handle.signal('grant', grantEnvelope(suite.keys, workflowId, change.id, 'execution', a));
      const result = (await handle.result()) as LaneStatus;
      expect(result.state).toBe('HOLD');
      expect(result.holdReason).toMatch(/precondition "no legacy writer connected" does not hold \(got 1, expected 0\)/);
      await s.query('SELECT 1');
    });
    expect(await applied(change)).toEqual([]);
  });
});
