/**
 * The core promise on a real dev server with real workers and a real (PGlite) production database: the
 * execution lane is run once per required grant *missing* — no production activity is ever scheduled (read from
 * history) and production is unchanged — and once with every grant, when each step runs exactly once, in order.
 * Also: a grant naming a stale evidence tree, a revoked grant, and a key dropped from the trust root between the
 * workflow's check and the production worker's (the interceptor refuses; nothing is applied).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync, readFileSync } from 'node:fs';
import { WorkflowFailedError } from '@temporalio/client';
import type { LaneStatus } from '../../src/domain/lane-status';
import type { ChangeSpec } from '../../src/domain/change-spec';
import { productionTarget } from '../../src/domain/change-spec';
import { statusQuery } from '../../src/workflows/messages';
import { productionQuery, historyEvents, runLaneWithGrants, scheduledActivities, startLane, waitFor, freshChange, grantEnvelope, useLaneSuite } from '../support/lanes';
import { recordHistory } from '../support/histories';

const PRODUCTION = 'applyProductionStep';
const suite = useLaneSuite();
let change: ChangeSpec;
let tree: string;

const productionTables = async (c: ChangeSpec) => {
  const t = await productionQuery<{ n: string }>(suite.h.lanesHome, c, "SELECT table_name AS n FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1");
  const steps = await productionQuery<{ step_id: string }>(suite.h.lanesHome, c, 'SELECT step_id FROM gated_lanes.applied_steps WHERE change_id = $1 ORDER BY applied_at', [c.id]);
  return { tables: t.map((r) => r.n), steps: steps.map((r) => r.step_id) };
};

beforeAll(async () => {
  change = freshChange({ blockers: false });
  const rehearsal = await runLaneWithGrants(suite.h, suite.keys, change, 'rehearsal', ['AUTHORIZE_REHEARSAL']);
  expect(rehearsal.result.state).toBe('COMPLETED');
  tree = rehearsal.result.evidence!.treeHash;
  const precheck = await runLaneWithGrants(suite.h, suite.keys, change, 'precheck', ['AUTHORIZE_PRECHECK', 'OPT4_PRODUCTION']);
  expect(precheck.result.state).toBe('COMPLETED');
}, 120_000);

const ALL = ['OPT4_PRODUCTION', 'REAL_RUN', 'APPLY', 'ACTIVATION'] as const;

describe('execution lane gate (real dev server, real production database)', () => {
  /**
   * Starts an execution lane, sends `actions`, waits until the lane has judged them all and is still waiting, then
   * ends it with an owner's signed HOLD (a deadline would make the test depend on machine speed).
   */
  async function waitingExecution(actions: readonly string[], over: Parameters<typeof grantEnvelope>[5], until: (s: LaneStatus) => boolean) {
    const { workflowId } = await startLane(suite.h, suite.keys, { lane: 'execution', change });
    const handle = suite.h.client.workflow.getHandle(workflowId);
    for (const a of actions) await handle.signal('grant', grantEnvelope(suite.keys, workflowId, change.id, 'execution', a as never, over));
    const waiting = await waitFor('the lane to judge every grant', async () => {
      const st = await handle.query(statusQuery);
      return st.state === 'WAITING_FOR_GRANT' && until(st) ? st : undefined;
    }, 60_000);
    await handle.signal('hold', grantEnvelope(suite.keys, workflowId, change.id, 'execution', 'HOLD'));
    return { workflowId, waiting, result: (await handle.result()) as LaneStatus };
  }

  it.each(ALL)('with every grant but %s: waits, no production activity scheduled, production unchanged', async (missing) => {
    const actions = ALL.filter((a) => a !== missing);
    const { workflowId, waiting, result } = await waitingExecution(actions, { evidenceTree: tree }, (s) => s.grantsMissing.length === 1);
    expect(waiting.grantsMissing).toEqual([missing]);
    expect(waiting.waitingFor).toEqual([`grants from an owner: ${missing}`]);
    expect(result.state).toBe('HOLD');
    expect(await scheduledActivities(suite.h.client, workflowId)).not.toContain(PRODUCTION);
    expect(await productionTables(change)).toEqual({ tables: [], steps: [] });
    if (missing === 'REAL_RUN') await recordHistory(suite.h.client, workflowId, 'execution-hold-missing-real-run');
  });

  it('ends in HOLD on silence at the deadline, with nothing scheduled', async () => {
    const { workflowId, result } = await runLaneWithGrants(suite.h, suite.keys, change, 'execution', ['OPT4_PRODUCTION'], {}, { grantTimeoutMs: 3000 });
    expect(result.state).toBe('HOLD');
    expect(result.holdReason).toMatch(/nothing proceeds on silence/);
    expect(await scheduledActivities(suite.h.client, workflowId)).not.toContain(PRODUCTION);
  });

  it('refuses REAL_RUN and APPLY grants that name another evidence tree than the latest passed rehearsal', async () => {
    const { workflowId, waiting } = await waitingExecution(ALL, { evidenceTree: 'f'.repeat(64) }, (s) => s.grantsMissing.length === 2);
    expect(waiting.grantsMissing).toEqual(['REAL_RUN', 'APPLY']);
    expect(waiting.waitingFor.join('\n')).toMatch(/names evidence tree f{64}, not the latest passed rehearsal's/);
    expect(await scheduledActivities(suite.h.client, workflowId)).not.toContain(PRODUCTION);
  });

  it('re-checks expiry before scheduling: a grant that expired while the lane waited no longer counts', async () => {
    const { workflowId } = await startLane(suite.h, suite.keys, { lane: 'execution', change });
    const handle = suite.h.client.workflow.getHandle(workflowId);
    await handle.signal('grant', grantEnvelope(suite.keys, workflowId, change.id, 'execution', 'OPT4_PRODUCTION', { validForMs: 3000 }));
    await waitFor('the short grant accepted', async () => (await handle.query(statusQuery)).grantsPresent.length === 1);
    await new Promise((r) => setTimeout(r, 3500));
    for (const a of ['REAL_RUN', 'APPLY', 'ACTIVATION'] as const) {
      await handle.signal('grant', grantEnvelope(suite.keys, workflowId, change.id, 'execution', a, { evidenceTree: tree }));
    }
    const waiting = await waitFor('the rest judged', async () => {
      const st = await handle.query(statusQuery);
      return st.grantsPresent.length === 3 && st.grantsMissing.length === 1 ? st : undefined;
    }, 60_000);
    expect(waiting.grantsMissing).toEqual(['OPT4_PRODUCTION']);
    expect(waiting.rejected).toEqual([]);
    await handle.signal('hold', grantEnvelope(suite.keys, workflowId, change.id, 'execution', 'HOLD'));
    expect(((await handle.result()) as LaneStatus).state).toBe('HOLD');
    expect(await scheduledActivities(suite.h.client, workflowId)).not.toContain(PRODUCTION);
  });

  it('honours a revocation that arrives before scheduling: the revoked grant stops counting', async () => {
    const { workflowId } = await startLane(suite.h, suite.keys, { lane: 'execution', change });
    const handle = suite.h.client.workflow.getHandle(workflowId);
    const [opt4, ...rest] = ALL.map((a) => grantEnvelope(suite.keys, workflowId, change.id, 'execution', a, { evidenceTree: a === 'OPT4_PRODUCTION' ? undefined : tree }));
    await handle.signal('grant', opt4);
    const s = await waitFor('OPT4 present', async () => {
      const st = await handle.query(statusQuery);
      return st.grantsPresent.length === 1 ? st : undefined;
    });
    await handle.signal('revoke', grantEnvelope(suite.keys, workflowId, change.id, 'execution', 'REVOKE', { key: suite.keys.owner2, revokes: s.grantsPresent[0]!.id }));
    for (const g of rest) await handle.signal('grant', g);
    const waiting = await waitFor('the other grants judged', async () => {
      const st = await handle.query(statusQuery);
      return st.grantsPresent.length === 3 && st.grantsMissing.length === 1 ? st : undefined;
    }, 60_000);
    expect(waiting.revoked).toEqual([s.grantsPresent[0]!.id]);
    expect(waiting.grantsMissing).toEqual(['OPT4_PRODUCTION']);
    await handle.signal('hold', grantEnvelope(suite.keys, workflowId, change.id, 'execution', 'HOLD'));
    expect(((await handle.result()) as LaneStatus).state).toBe('HOLD');
    expect(await scheduledActivities(suite.h.client, workflowId)).not.toContain(PRODUCTION);
  });

  it('a key dropped from the trust root after the workflow accepted its grant: the production interceptor refuses, nothing applied', async () => {
    const original = readFileSync(suite.keys.trustRootPath, 'utf8');
    const { workflowId } = await startLane(suite.h, suite.keys, { lane: 'execution', change, grantTimeoutMs: 20_000 });
    const handle = suite.h.client.workflow.getHandle(workflowId);
    await waitFor('trust root loaded', async () => (await handle.query(statusQuery)).trustRootFingerprint);
    const doc = JSON.parse(original) as { keys: { name: string }[] };
    writeFileSync(suite.keys.trustRootPath, JSON.stringify({ ...doc, keys: doc.keys.filter((k) => k.name !== 'owner2') }));
    try {
      for (const a of ALL) {
        await handle.signal('grant', grantEnvelope(suite.keys, workflowId, change.id, 'execution', a, { key: suite.keys.owner2, evidenceTree: a === 'OPT4_PRODUCTION' ? undefined : tree }));
      }
      const err = await handle.result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect(String((err as WorkflowFailedError).cause?.message)).toMatch(/point of action refused applyProductionStep .*signed under trust root [0-9a-f]{16}…, but this worker's trust root is/);
      const events = await historyEvents(suite.h.client, workflowId);
      const failed = events.filter((e) => e.activityTaskFailedEventAttributes?.failure?.applicationFailureInfo?.type === 'GrantRefused');
      // The step, and then the lane's decision packet: its START names a trust root the worker no longer holds.
      expect(failed).toHaveLength(2);
      expect(await productionTables(change)).toEqual({ tables: [], steps: [] });
      expect((await handle.query(statusQuery)).state).toBe('FAILED');
    } finally {
      writeFileSync(suite.keys.trustRootPath, original);
    }
  });

  it('with every grant: each step runs exactly once, in order, after the last grant; production changed as declared', async () => {
    const { workflowId, result } = await runLaneWithGrants(suite.h, suite.keys, change, 'execution', [...ALL], { evidenceTree: tree });
    expect(result.state).toBe('COMPLETED');
    expect(result.steps?.map((s) => [s.id, s.state])).toEqual([
      ['qt001-apply', 'APPLIED'],
      ['qt001-activation', 'APPLIED'],
    ]);
    const events = await historyEvents(suite.h.client, workflowId);
    const lastGrant = Math.max(...events.flatMap((e, i) => (e.workflowExecutionSignaledEventAttributes?.signalName === 'grant' ? [i] : [])));
    const production = events.flatMap((e, i) => (e.activityTaskScheduledEventAttributes?.activityType?.name === PRODUCTION ? [{ i, e }] : []));
    expect(production).toHaveLength(2);
    expect(production[0]!.i).toBeGreaterThan(lastGrant);
    expect(production.every(({ e }) => e.activityTaskScheduledEventAttributes?.taskQueue?.name === `${suite.h.taskQueue}-production`)).toBe(true);
    expect(await productionTables(change)).toEqual({ tables: ['birth_registry'], steps: ['qt001-apply', 'qt001-activation'] });
    await recordHistory(suite.h.client, workflowId, 'execution-completed');
  });
});
