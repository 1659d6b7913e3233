/**
 * The rollback activity, resumed executions and armed steps attacked through a real Temporal client, with the
 * attacker's own workflows (recovery-attacker-workflows.ts) on their own queue and worker, against the real production worker and a real
 * (PGlite) production that an honest execution changed. Each attack asserts the refusal and that production — its
 * surface and Gated Lanes' ledger — did not change.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAttackerWorker, type AttackerWorker } from '../support/attacker-worker';
import { WorkflowFailedError } from '@temporalio/client';
import type { ChangeSpec } from '../../src/domain/change-spec';
import { specHashOf } from '../../src/domain/bindings';
import { productionTaskQueue } from '../../src/domain/task-queues';
import { LANE_WORKFLOW_TYPES } from '../../src/workflows/registry';
import { makeEnvelope } from '../../src/cli/envelopes';
import { SA_CHANGE_ID, SA_LANE_KIND } from '../../src/domain/search-attributes';
import { charterEnvelope, freshChange, grantEnvelope, learnLane, productionQuery, runLaneWithGrants, useLaneSuite } from '../support/lanes';

const suite = useLaneSuite();
let attacker: AttackerWorker;
let attackerQueue: string;

/** Executed honestly with every grant: production holds both steps. */
let victim: ChangeSpec;
let victimTree: string;
/** Another change, rehearsed honestly: a passed rehearsal, but of another spec. */
let otherTree: string;

beforeAll(async () => {
  attacker = await startAttackerWorker(join(__dirname, 'recovery-attacker-workflows.ts'));
  attackerQueue = attacker.queue;

  victim = freshChange({ blockers: false });
  victimTree = (await runLaneWithGrants(suite.h, suite.keys, victim, 'rehearsal', ['AUTHORIZE_REHEARSAL'])).result.evidence!.treeHash;
  expect((await runLaneWithGrants(suite.h, suite.keys, victim, 'precheck', ['AUTHORIZE_PRECHECK', 'OPT4_PRODUCTION'])).result.state).toBe('COMPLETED');
  expect((await runLaneWithGrants(suite.h, suite.keys, victim, 'execution', ['OPT4_PRODUCTION', 'REAL_RUN', 'APPLY', 'ACTIVATION'])).result.state).toBe('COMPLETED');
  const other = { ...freshChange({ blockers: false }), title: 'another spec, rehearsed and passed' };
  otherTree = (await runLaneWithGrants(suite.h, suite.keys, other, 'rehearsal', ['AUTHORIZE_REHEARSAL'])).result.evidence!.treeHash;
}, 300_000);

afterAll(async () => {
  await attacker?.stop();
});

async function productionState(c: ChangeSpec): Promise<unknown> {
  const q = <R>(sql: string, params?: unknown[]) => productionQuery<R>(suite.h.lanesHome, c, sql, params);
  const tables = (await q<{ t: string }>("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")).map((r) => r.t);
  const functions = (await q<{ f: string }>("SELECT proname AS f FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE nspname = 'public' ORDER BY 1")).map((r) => r.f);
  const [rb] = await q<{ t: string | null }>("SELECT to_regclass('gated_lanes.rolled_back_steps')::text AS t");
  const rolledBack = rb?.t ? await q('SELECT step_id, workflow_id FROM gated_lanes.rolled_back_steps ORDER BY 1') : [];
  const claims = await q('SELECT nonce, workflow_id FROM gated_lanes.grant_claims ORDER BY 1');
  return { tables, functions, rolledBack, claims };
}

/** The innermost failure of a workflow the attacker ran. */
async function innermost(p: Promise<unknown>): Promise<{ type?: string; message: string }> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err, 'the attack succeeded').toBeInstanceOf(WorkflowFailedError);
  let cause = err as { cause?: unknown; type?: string; message: string };
  while (cause.cause) cause = cause.cause as typeof cause;
  return { type: cause.type, message: cause.message };
}

/** A rogue lane of `lane`'s type on the attacker's worker, with a genuine operator START (`startExtra` signed in it). */
async function rogueLane(change: ChangeSpec, lane: 'execution' | 'rollback', startExtra: { resumeFrom?: string }, grants: { action: 'OPT4_PRODUCTION' | 'REAL_RUN' | 'APPLY' | 'ACTIVATION' | 'PROD_ROLLBACK'; armWindowMs?: number }[], order: string[]) {
  const workflowId = `${change.id}.${lane}.${randomUUID()}`;
  const start = makeEnvelope({ key: suite.keys.operator, workflowId, changeId: change.id, lane, action: 'START_LANE', validForMs: 600_000, trustRoot: suite.keys.trustRoot, specHash: specHashOf(change), ...startExtra });
  const handle = await suite.h.client.workflow.start(LANE_WORKFLOW_TYPES[lane], {
    workflowId,
    taskQueue: attackerQueue,
    // With the owner's charter too: the rogue worker holds every signature the honest lane would carry.
    args: [{ change, start, productionQueue: productionTaskQueue(suite.h.taskQueue), expectGrants: grants.length, order, charter: [charterEnvelope(suite.keys, change)] }],
    typedSearchAttributes: [
      { key: SA_CHANGE_ID, value: change.id },
      { key: SA_LANE_KIND, value: lane },
    ],
  });
  await learnLane(suite.h.client, workflowId);
  for (const g of grants) await handle.signal('grant', grantEnvelope(suite.keys, workflowId, change.id, lane, g.action, g.armWindowMs ? { armWindowMs: g.armWindowMs } : {}));
  return (await handle.result()) as string[];
}

/**
 * A rogue rollback lane on the attacker's worker: a genuine operator START (the operator may be dishonest), and
 * owners' grants sent to it as `lanes grant` would; it then asks production directly, skipping our gate.
 */
async function rogueRollback(change: ChangeSpec, grants: { action: 'OPT4_PRODUCTION' | 'PROD_ROLLBACK'; evidenceTree?: string }[]) {
  const workflowId = `${change.id}.rollback.${randomUUID()}`;
  const start = makeEnvelope({ key: suite.keys.operator, workflowId, changeId: change.id, lane: 'rollback', action: 'START_LANE', validForMs: 600_000, trustRoot: suite.keys.trustRoot, specHash: specHashOf(change) });
  const handle = await suite.h.client.workflow.start(LANE_WORKFLOW_TYPES.rollback, {
    workflowId,
    taskQueue: attackerQueue,
    args: [{ change, start, productionQueue: productionTaskQueue(suite.h.taskQueue), expectGrants: grants.length, order: ['qt001-activation', 'qt001-apply'] }],
    typedSearchAttributes: [
      { key: SA_CHANGE_ID, value: change.id },
      { key: SA_LANE_KIND, value: 'rollback' },
    ],
  });
  await learnLane(suite.h.client, workflowId);
  for (const g of grants) await handle.signal('grant', grantEnvelope(suite.keys, workflowId, change.id, 'rollback', g.action, g.evidenceTree ? { evidenceTree: g.evidenceTree } : {}));
  return (await handle.result()) as string[];
}

describe('attack: the production rollback activity scheduled directly', () => {
  it('by a workflow of another type with a hand-made request: refused, production unchanged', async () => {
    const before = await productionState(victim);
    const refusal = await innermost(
      suite.h.client.workflow.execute('scheduleActivity', {
        workflowId: `attacker-${randomUUID()}`,
        taskQueue: attackerQueue,
        args: [{ taskQueue: productionTaskQueue(suite.h.taskQueue), activity: 'rollbackProductionStep', args: [{ change: victim, stepId: 'qt001-apply', start: null, grants: [] }] }],
      }),
    );
    expect(refusal.type).toBe('GrantRefused');
    expect(refusal.message).toMatch(/point of action refused rollbackProductionStep/);
    expect(await productionState(victim)).toEqual(before);
  });

  it('by a rogue rollback lane holding OPT4_PRODUCTION only: refused (no PROD_ROLLBACK), production unchanged', async () => {
    const before = await productionState(victim);
    const outcomes = await rogueRollback(victim, [{ action: 'OPT4_PRODUCTION' }]);
    expect(outcomes).toHaveLength(2);
    for (const o of outcomes) expect(o).toMatch(/refused: point of action refused rollbackProductionStep .*no valid PROD_ROLLBACK grant/);
    expect(await productionState(victim)).toEqual(before);
  });

  it("by a rogue rollback lane whose PROD_ROLLBACK names another spec's passed rehearsal: refused at the point of action, production unchanged", async () => {
    const before = await productionState(victim);
    const outcomes = await rogueRollback(victim, [{ action: 'OPT4_PRODUCTION' }, { action: 'PROD_ROLLBACK', evidenceTree: otherTree }]);
    expect(outcomes).toHaveLength(2);
    // Refused by the tree's binding to another change (its packet's worker attestation), or by its spec.
    for (const o of outcomes) expect(o).toMatch(new RegExp(`refused: .*PROD_ROLLBACK( names evidence tree ${otherTree}, but it rehearsed change spec .*not this spec|'s rehearsal: evidence tree ${otherTree} is bound to change \\S+ .*not to change)`));
    expect(await productionState(victim)).toEqual(before);
  });

  it('by a rogue rollback lane undoing the first step before the last: refused by the ledger (reverse order), production unchanged', async () => {
    const before = await productionState(victim);
    const workflowId = `${victim.id}.rollback.${randomUUID()}`;
    const start = makeEnvelope({ key: suite.keys.operator, workflowId, changeId: victim.id, lane: 'rollback', action: 'START_LANE', validForMs: 600_000, trustRoot: suite.keys.trustRoot, specHash: specHashOf(victim) });
    const handle = await suite.h.client.workflow.start(LANE_WORKFLOW_TYPES.rollback, {
      workflowId,
      taskQueue: attackerQueue,
      args: [{ change: victim, start, productionQueue: productionTaskQueue(suite.h.taskQueue), expectGrants: 2, order: ['qt001-apply'] }],
      typedSearchAttributes: [
        { key: SA_CHANGE_ID, value: victim.id },
        { key: SA_LANE_KIND, value: 'rollback' },
      ],
    });
    await learnLane(suite.h.client, workflowId);
    for (const a of ['OPT4_PRODUCTION', 'PROD_ROLLBACK'] as const) await handle.signal('grant', grantEnvelope(suite.keys, workflowId, victim.id, 'rollback', a, { evidenceTree: victimTree }));
    const outcomes = (await handle.result()) as string[];
    expect(outcomes).toEqual([expect.stringMatching(/qt001-apply: refused: .*rolled back only after qt001-activation, applied later and not yet rolled back/)]);
    expect(await productionState(victim)).toEqual(before);
  });
});

describe('attack: a resumed execution asking production for more than the remaining steps', () => {
  it('a rogue execution whose START resumes from step 2: step 1 (already applied) and a plain precheck are refused, production unchanged', async () => {
    const before = await productionState(victim);
    const outcomes = await rogueLane(victim, 'execution', { resumeFrom: 'qt001-activation' }, [{ action: 'OPT4_PRODUCTION' }, { action: 'REAL_RUN' }, { action: 'APPLY' }, { action: 'ACTIVATION' }], ['qt001-apply', 'qt001-activation']);
    expect(outcomes).toEqual([
      expect.stringMatching(/qt001-apply: refused: .*step qt001-apply comes before qt001-activation, where this resumed execution starts/),
      expect.stringMatching(/qt001-activation: refused: .*REAL_RUN names precheck tree [0-9a-f]{64}, but it checked a plain execution, not a resume from step qt001-activation/),
    ]);
    expect(await productionState(victim)).toEqual(before);
  });
});

describe('attack: an armed step applied without being armed', () => {
  it('a rogue execution presenting an APPLY grant that does not arm the armed step: refused at the point of action, production unchanged', async () => {
    const base = freshChange({ blockers: false });
    const armed: ChangeSpec = { ...base, steps: [{ ...base.steps[0]!, window: '1m', preconditions: [{ name: 'always', sql: 'SELECT 0', expect: 0 }] }, base.steps[1]!] };
    expect((await runLaneWithGrants(suite.h, suite.keys, armed, 'rehearsal', ['AUTHORIZE_REHEARSAL'])).result.state).toBe('COMPLETED');
    expect((await runLaneWithGrants(suite.h, suite.keys, armed, 'precheck', ['AUTHORIZE_PRECHECK', 'OPT4_PRODUCTION'])).result.state).toBe('COMPLETED');
    const before = await productionState(armed);
    const unarmed = await rogueLane(armed, 'execution', {}, [{ action: 'OPT4_PRODUCTION' }, { action: 'REAL_RUN' }, { action: 'APPLY' }], ['qt001-apply']);
    expect(unarmed).toEqual([expect.stringMatching(/qt001-apply: refused: .*step qt001-apply is armed \(window 1m\): its APPLY grant [0-9a-f]{16}… does not arm it/)]);
    const tooLong = await rogueLane(armed, 'execution', {}, [{ action: 'OPT4_PRODUCTION' }, { action: 'REAL_RUN' }, { action: 'APPLY', armWindowMs: 120_000 }], ['qt001-apply']);
    expect(tooLong).toEqual([expect.stringMatching(/qt001-apply: refused: .*step qt001-apply may be armed for at most 1m; its APPLY grant .* arms it for 2m/)]);
    expect(await productionState(armed)).toEqual(before);
  }, 180_000);
});
