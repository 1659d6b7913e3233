/**
 * The whole path on a real PostgreSQL production, through the real dev server and workers: shaped rehearsal
 * (pg_dump clone), dry-run, precheck and execution with every grant. The production URL reaches the worker only
 * through the environment variable the spec names: neither it nor its password is in any lane's history.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { closeTargets } from '../../src/activities/targets/open';
import type { LaneStatus } from '../../src/domain/lane-status';
import { freshChange, historyEvents, productionQuery, runLaneWithGrants, useLaneSuite } from '../support/lanes';
import { makeProduction, postgresSkipped, type TestProduction } from '../support/targets';

const suite = useLaneSuite();
let prod: TestProduction | undefined;
afterAll(async () => {
  await closeTargets();
  await prod?.drop();
});

describe.skipIf(postgresSkipped !== undefined)(`lanes on a real PostgreSQL production${postgresSkipped ? ` (SKIPPED: ${postgresSkipped.split('\n')[0]})` : ''}`, () => {
  it('rehearses on a pg_dump clone, dry-runs, prechecks and executes; no URL or password in history', async () => {
    prod = await makeProduction('postgres', freshChange({ blockers: false }), 'CREATE TABLE keep_me (id int PRIMARY KEY); INSERT INTO keep_me VALUES (1);');
    const { change } = prod;
    const run = (lane: Parameters<typeof runLaneWithGrants>[3], actions: Parameters<typeof runLaneWithGrants>[4], over = {}, opts = {}) =>
      runLaneWithGrants(suite.h, suite.keys, change, lane, actions, over, opts);

    const rehearsal = await run('rehearsal', ['AUTHORIZE_REHEARSAL'], {}, { shaped: true });
    expect(rehearsal.result.state).toBe('COMPLETED');
    const tree = rehearsal.result.evidence!.treeHash;
    expect((await run('dry-run', ['AUTHORIZE_DRYRUN', 'OPT4_PRODUCTION'])).result.state).toBe('COMPLETED');
    expect((await run('precheck', ['AUTHORIZE_PRECHECK', 'OPT4_PRODUCTION'])).result.state).toBe('COMPLETED');
    const execution = await run('execution', ['OPT4_PRODUCTION', 'REAL_RUN', 'APPLY', 'ACTIVATION'], { evidenceTree: tree });
    expect((execution.result as LaneStatus).state).toBe('COMPLETED');

    const applied = await productionQuery<{ step_id: string }>(prod.lanesHome, change, 'SELECT step_id FROM gated_lanes.applied_steps ORDER BY applied_at');
    expect(applied.map((r) => r.step_id)).toEqual(['qt001-apply', 'qt001-activation']);
    await productionQuery(prod.lanesHome, change, "SELECT fn_birth_register('obj-1', 'test')");
    expect(await productionQuery(prod.lanesHome, change, 'SELECT object_id FROM birth_registry')).toEqual([{ object_id: 'obj-1' }]);
    expect(await productionQuery(prod.lanesHome, change, 'SELECT id FROM keep_me')).toEqual([{ id: 1 }]);

    const url = new URL(prod.url!);
    for (const { workflowId } of [rehearsal, execution]) {
      // Payloads are base64 in history JSON: decode every one, so the search covers what they carry.
      const json = historyToJSON({ events: await historyEvents(suite.h.client, workflowId) });
      const history = json + [...json.matchAll(/"data":\s*"([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8')).join('\n');
      expect(history).toContain(change.targets!.production.engine === 'postgres' ? change.targets!.production.urlEnv : '');
      expect(history.includes(decodeURIComponent(url.password))).toBe(false);
      expect(history.includes(url.host)).toBe(false);
    }
  });
});
