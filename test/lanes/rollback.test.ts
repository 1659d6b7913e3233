/**
 * The rollback lane on a real dev server, real workers and a real (PGlite) production: without PROD_ROLLBACK
 * nothing is scheduled and production is unchanged; with OPT4_PRODUCTION and PROD_ROLLBACK naming the passed
 * rehearsal of this spec, every applied step is undone once, in reverse order, and the packet proves production is
 * back to the fingerprint recorded before the execution's first step. A half-applied execution (its step 2 fails on
 * production) is recovered the same way: only step 1 is undone.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import type { LaneStatus } from '../../src/domain/lane-status';
import type { ChangeSpec } from '../../src/domain/change-spec';
import { statusQuery } from '../../src/workflows/messages';
import { openProduction } from '../../src/activities/targets/open';
import { surfaceFingerprint, type SurfaceFingerprint } from '../../src/activities/targets/fingerprint';
import { freshChange, grantEnvelope, productionQuery, runLaneWithGrants, scheduledActivities, startLane, useLaneSuite, waitFor } from '../support/lanes';
import { recordHistory } from '../support/histories';

const ROLLBACK = 'rollbackProductionStep';
const EXECUTION = ['OPT4_PRODUCTION', 'REAL_RUN', 'APPLY', 'ACTIVATION'] as const;
const suite = useLaneSuite();

async function fingerprintOf(c: ChangeSpec): Promise<SurfaceFingerprint> {
  const db = await openProduction(suite.h.lanesHome, c);
  return db.session((s) => surfaceFingerprint(s, c.surface));
}

/** Production's surface objects and Gated Lanes' ledger of the change: what a refusal must leave as it was. */
async function productionState(c: ChangeSpec) {
  const q = <R>(sql: string, params?: unknown[]) => productionQuery<R>(suite.h.lanesHome, c, sql, params);
  const tables = (await q<{ t: string }>("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")).map((r) => r.t);
  const functions = (await q<{ f: string }>("SELECT proname AS f FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE nspname = 'public' ORDER BY 1")).map((r) => r.f);
  const [ledger] = await q<{ t: string | null }>("SELECT to_regclass('gated_lanes.rolled_back_steps')::text AS t");
  const applied = (await q<{ step_id: string }>('SELECT step_id FROM gated_lanes.applied_steps WHERE change_id = $1 ORDER BY applied_at', [c.id])).map((r) => r.step_id);
  const rolledBack = ledger?.t ? (await q<{ step_id: string }>('SELECT step_id FROM gated_lanes.rolled_back_steps WHERE change_id = $1 ORDER BY rolled_back_at', [c.id])).map((r) => r.step_id) : [];
  return { tables, functions, applied, rolledBack, fingerprint: (await fingerprintOf(c)).hash };
}

/** Rehearsal and precheck of `c`, honestly granted; returns the rehearsal's tree. */
async function rehearsedAndPrechecked(c: ChangeSpec): Promise<string> {
  const rehearsal = await runLaneWithGrants(suite.h, suite.keys, c, 'rehearsal', ['AUTHORIZE_REHEARSAL']);
  expect(rehearsal.result.state).toBe('COMPLETED');
  const precheck = await runLaneWithGrants(suite.h, suite.keys, c, 'precheck', ['AUTHORIZE_PRECHECK', 'OPT4_PRODUCTION']);
  expect(precheck.result.state).toBe('COMPLETED');
  return rehearsal.result.evidence!.treeHash;
}

function rollbackPacket(result: LaneStatus): Record<string, unknown> {
  return JSON.parse(readFileSync(join(result.evidence!.dir, 'rollback.json'), 'utf8')) as Record<string, unknown>;
}

describe('rollback lane after a completed execution', () => {
  let change: ChangeSpec;
  let tree: string;
  let preExecution: SurfaceFingerprint;

  beforeAll(async () => {
    change = freshChange({ blockers: false });
    tree = await rehearsedAndPrechecked(change);
    preExecution = await fingerprintOf(change);
    const execution = await runLaneWithGrants(suite.h, suite.keys, change, 'execution', [...EXECUTION]);
    expect(execution.result.state).toBe('COMPLETED');
    expect((await fingerprintOf(change)).hash).not.toBe(preExecution.hash);
  }, 240_000);

  it('without PROD_ROLLBACK: waits for it, no rollback activity is scheduled, production unchanged', async () => {
    const before = await productionState(change);
    const { workflowId } = await startLane(suite.h, suite.keys, { lane: 'rollback', change });
    const handle = suite.h.client.workflow.getHandle(workflowId);
    await handle.signal('grant', grantEnvelope(suite.keys, workflowId, change.id, 'rollback', 'OPT4_PRODUCTION'));
    const waiting = await waitFor('the lane to judge OPT4_PRODUCTION', async () => {
      const st = await handle.query(statusQuery);
      return st.state === 'WAITING_FOR_GRANT' && st.grantsPresent.length === 1 && st.grantsMissing.length === 1 ? st : undefined;
    }, 60_000);
    expect(waiting.grantsMissing).toEqual(['PROD_ROLLBACK']);
    await handle.signal('hold', grantEnvelope(suite.keys, workflowId, change.id, 'rollback', 'HOLD'));
    expect(((await handle.result()) as LaneStatus).state).toBe('HOLD');
    expect(await scheduledActivities(suite.h.client, workflowId)).not.toContain(ROLLBACK);
    expect(await productionState(change)).toEqual(before);
  });

  it('PROD_ROLLBACK naming another tree than the passed rehearsal of this spec: the gate never opens, production unchanged', async () => {
    const before = await productionState(change);
    const { workflowId } = await startLane(suite.h, suite.keys, { lane: 'rollback', change });
    const handle = suite.h.client.workflow.getHandle(workflowId);
    for (const a of ['OPT4_PRODUCTION', 'PROD_ROLLBACK'] as const) await handle.signal('grant', grantEnvelope(suite.keys, workflowId, change.id, 'rollback', a, { evidenceTree: 'e'.repeat(64) }));
    const waiting = await waitFor('the lane to judge both grants', async () => {
      const st = await handle.query(statusQuery);
      return st.state === 'WAITING_FOR_GRANT' && st.grantsPresent.length === 2 && st.grantsMissing.length === 1 ? st : undefined;
    }, 60_000);
    expect(waiting.grantsMissing).toEqual(['PROD_ROLLBACK']);
    expect(waiting.waitingFor.join('\n')).toMatch(/PROD_ROLLBACK grant names evidence tree e{64}, not the latest passed rehearsal's/);
    await handle.signal('hold', grantEnvelope(suite.keys, workflowId, change.id, 'rollback', 'HOLD'));
    expect(((await handle.result()) as LaneStatus).state).toBe('HOLD');
    expect(await scheduledActivities(suite.h.client, workflowId)).not.toContain(ROLLBACK);
    expect(await productionState(change)).toEqual(before);
  });

  it('with OPT4_PRODUCTION and PROD_ROLLBACK: undoes every applied step once, in reverse order, and restores the pre-execution fingerprint exactly', async () => {
    const { workflowId, result } = await runLaneWithGrants(suite.h, suite.keys, change, 'rollback', ['OPT4_PRODUCTION', 'PROD_ROLLBACK'], { evidenceTree: tree });
    expect(result.state, result.failure).toBe('COMPLETED');
    expect(result.steps?.map((s) => [s.id, s.state])).toEqual([
      ['qt001-activation', 'ROLLED_BACK'],
      ['qt001-apply', 'ROLLED_BACK'],
    ]);
    const after = await productionState(change);
    expect(after).toMatchObject({ tables: [], functions: [], applied: ['qt001-apply', 'qt001-activation'], rolledBack: ['qt001-activation', 'qt001-apply'] });
    expect(after.fingerprint).toBe(preExecution.hash);
    const packet = rollbackPacket(result);
    expect(packet).toMatchObject({ restored: true, differences: [], after: preExecution.hash, baseline: { fingerprint: preExecution.hash } });
    expect(packet.before).not.toBe(preExecution.hash);
    // Every production step went to the production queue, in reverse spec order.
    expect((await scheduledActivities(suite.h.client, workflowId)).filter((a) => a === ROLLBACK)).toHaveLength(2);
    await recordHistory(suite.h.client, workflowId, 'rollback-completed');
  });

  it('a second, fully granted rollback never undoes a step twice: refused, production unchanged', async () => {
    const before = await productionState(change);
    const second = await runLaneWithGrants(suite.h, suite.keys, change, 'rollback', ['OPT4_PRODUCTION', 'PROD_ROLLBACK'], { evidenceTree: tree }).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(WorkflowFailedError);
    expect(String((second as WorkflowFailedError).cause?.message)).toMatch(/already rolled back by .*it is rolled back once/);
    expect(await productionState(change)).toEqual(before);
  });
});

describe('recovery of a half-applied execution by rollback', () => {
  it('step 2 of 2 fails on production: the execution ends FAILED with step 1 applied; the rollback undoes step 1 only and restores the baseline', async () => {
    const change = freshChange({ blockers: false });
    const tree = await rehearsedAndPrechecked(change);
    // Production drifted after the precheck: an object of the same name makes step 2's CREATE FUNCTION fail there.
    await productionQuery(suite.h.lanesHome, change, 'CREATE FUNCTION fn_birth_register(p_object_id text, p_origin text) RETURNS void LANGUAGE sql AS $$ SELECT 1 $$');
    const preExecution = await fingerprintOf(change);
    const failed = await runLaneWithGrants(suite.h, suite.keys, change, 'execution', [...EXECUTION]).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(WorkflowFailedError);
    expect(String((failed as WorkflowFailedError).cause?.message)).toMatch(/step qt001-activation: its SQL failed on production/);
    expect((await productionState(change)).applied).toEqual(['qt001-apply']);

    const { result } = await runLaneWithGrants(suite.h, suite.keys, change, 'rollback', ['OPT4_PRODUCTION', 'PROD_ROLLBACK'], { evidenceTree: tree });
    expect(result.state, result.failure).toBe('COMPLETED');
    expect(result.steps?.map((s) => [s.id, s.state])).toEqual([
      ['qt001-activation', 'NOT_APPLIED'],
      ['qt001-apply', 'ROLLED_BACK'],
    ]);
    const after = await productionState(change);
    expect(after).toMatchObject({ tables: [], functions: ['fn_birth_register'], rolledBack: ['qt001-apply'] });
    expect(after.fingerprint).toBe(preExecution.hash);
    expect(rollbackPacket(result)).toMatchObject({ restored: true, differences: [], steps: [{ stepId: 'qt001-apply' }] });
  }, 240_000);
});

describe('recovery of a half-applied execution by resuming', () => {
  it('a plain precheck refuses; a resume precheck accepts exactly the applied prefix; the resumed execution applies only the remaining step', async () => {
    const change = freshChange({ blockers: false });
    await rehearsedAndPrechecked(change);
    const drift = 'CREATE FUNCTION fn_birth_register(p_object_id text, p_origin text) RETURNS void LANGUAGE sql AS $$ SELECT 1 $$';
    await productionQuery(suite.h.lanesHome, change, drift);
    const failed = await runLaneWithGrants(suite.h, suite.keys, change, 'execution', [...EXECUTION]).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(WorkflowFailedError);
    // The operator fixes the cause out of band; production still holds step 1 of the failed run.
    await productionQuery(suite.h.lanesHome, change, 'DROP FUNCTION fn_birth_register(text, text)');

    const plain = await runLaneWithGrants(suite.h, suite.keys, change, 'precheck', ['AUTHORIZE_PRECHECK', 'OPT4_PRODUCTION']).catch((e: unknown) => e);
    expect(String((plain as WorkflowFailedError).cause?.message)).toMatch(/steps already applied to production: qt001-apply/);
    const resumed = await runLaneWithGrants(suite.h, suite.keys, change, 'precheck', ['AUTHORIZE_PRECHECK', 'OPT4_PRODUCTION'], {}, { resumeFrom: 'qt001-activation' });
    expect(resumed.result.state, resumed.result.failure).toBe('COMPLETED');
    expect(JSON.parse(readFileSync(join(resumed.result.evidence!.dir, 'precheck.json'), 'utf8'))).toMatchObject({ status: 'PASSED', resumeFrom: 'qt001-activation' });

    const before = await productionState(change);
    const { workflowId, result } = await runLaneWithGrants(suite.h, suite.keys, change, 'execution', ['OPT4_PRODUCTION', 'REAL_RUN', 'ACTIVATION'], {}, { resumeFrom: 'qt001-activation' });
    expect(result.state, result.failure).toBe('COMPLETED');
    expect(result.requiredGrants).toEqual(['OPT4_PRODUCTION', 'REAL_RUN', 'ACTIVATION']);
    expect(result.steps?.map((s) => [s.id, s.state])).toEqual([
      ['qt001-apply', 'APPLIED_EARLIER'],
      ['qt001-activation', 'APPLIED'],
    ]);
    expect((await scheduledActivities(suite.h.client, workflowId)).filter((a) => a === 'applyProductionStep')).toHaveLength(1);
    const after = await productionState(change);
    expect(after.applied).toEqual([...before.applied, 'qt001-activation']);
    expect(after).toMatchObject({ tables: ['birth_registry'], functions: ['fn_birth_register'] });
    const ledger = await productionQuery<{ step_id: string; workflow_id: string }>(suite.h.lanesHome, change, 'SELECT step_id, workflow_id FROM gated_lanes.applied_steps WHERE change_id = $1 ORDER BY applied_at', [change.id]);
    expect(ledger.map((r) => r.workflow_id === workflowId)).toEqual([false, true]);
    await recordHistory(suite.h.client, workflowId, 'execution-resumed');
  }, 240_000);

  it('a resume precheck on a production holding none of the change refuses: it accepts the change’s own applied steps and nothing else', async () => {
    const change = freshChange({ blockers: false });
    await runLaneWithGrants(suite.h, suite.keys, change, 'rehearsal', ['AUTHORIZE_REHEARSAL']);
    const before = await productionState(change).catch(() => undefined);
    const refused = await runLaneWithGrants(suite.h, suite.keys, change, 'precheck', ['AUTHORIZE_PRECHECK', 'OPT4_PRODUCTION'], {}, { resumeFrom: 'qt001-activation' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WorkflowFailedError);
    expect(String((refused as WorkflowFailedError).cause?.message)).toMatch(/a resume from here expects exactly qt001-apply applied, and production's ledger holds none/);
    if (before) expect(await productionState(change)).toEqual(before);
  }, 120_000);
});
