/**
 * Armed steps on a real dev server, real workers and a real (PGlite) production: the demo change's first step is
 * armed (window 1m) with one live precondition — no relation named cutover_blocker exists. Its APPLY grant arms it
 * (`--window`); the production worker checks the precondition read-only right before applying, applies only when it
 * holds, and the lane looks again within the window; a window that lapses, or an owner's HOLD, ends the lane in HOLD
 * naming what stood in the way, with nothing applied.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { LaneStatus } from '../../src/domain/lane-status';
import type { ChangeSpec } from '../../src/domain/change-spec';
import { statusQuery } from '../../src/workflows/messages';
import { freshChange, grantEnvelope, productionQuery, runLaneWithGrants, scheduledActivities, startLane, useLaneSuite, waitFor } from '../support/lanes';
import { recordHistory } from '../support/histories';

const PRODUCTION = 'applyProductionStep';
const suite = useLaneSuite();
const BLOCKER = 'cutover_blocker';

function armedChange(): ChangeSpec {
  const base = freshChange({ blockers: false });
  const [first, ...rest] = base.steps;
  return {
    ...base,
    steps: [
      { ...first!, window: '1m', preconditions: [{ name: 'no cutover blocker', sql: `SELECT count(*) FROM pg_catalog.pg_class WHERE relname = '${BLOCKER}'`, expect: 0 }] },
      ...rest,
    ],
  };
}

async function prepared(c: ChangeSpec): Promise<void> {
  expect((await runLaneWithGrants(suite.h, suite.keys, c, 'rehearsal', ['AUTHORIZE_REHEARSAL'])).result.state).toBe('COMPLETED');
  expect((await runLaneWithGrants(suite.h, suite.keys, c, 'precheck', ['AUTHORIZE_PRECHECK', 'OPT4_PRODUCTION'])).result.state).toBe('COMPLETED');
}

async function ledger(c: ChangeSpec) {
  const applied = await productionQuery<{ step_id: string }>(suite.h.lanesHome, c, 'SELECT step_id FROM gated_lanes.applied_steps WHERE change_id = $1 ORDER BY applied_at', [c.id]);
  const tables = await productionQuery<{ t: string }>(suite.h.lanesHome, c, "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1");
  return { applied: applied.map((r) => r.step_id), tables: tables.map((r) => r.t) };
}

/** Starts an execution and sends its grants, APPLY arming the first step for `armMs` (undefined: not armed). */
async function armedExecution(c: ChangeSpec, armMs: number | undefined, opts: { pauseAfterApplyMs?: number } = {}) {
  const { workflowId } = await startLane(suite.h, suite.keys, { lane: 'execution', change: c });
  const handle = suite.h.client.workflow.getHandle(workflowId);
  const send = (a: 'OPT4_PRODUCTION' | 'REAL_RUN' | 'APPLY' | 'ACTIVATION' | 'HOLD', over = {}) => handle.signal(a === 'HOLD' ? 'hold' : 'grant', grantEnvelope(suite.keys, workflowId, c.id, 'execution', a, over));
  await send('APPLY', armMs === undefined ? {} : { armWindowMs: armMs });
  if (opts.pauseAfterApplyMs) await new Promise((r) => setTimeout(r, opts.pauseAfterApplyMs));
  for (const a of ['OPT4_PRODUCTION', 'REAL_RUN', 'ACTIVATION'] as const) await send(a);
  return { workflowId, handle, send };
}

describe('armed steps', () => {
  let held: ChangeSpec;

  beforeAll(async () => {
    held = armedChange();
    await prepared(held);
    // Production drifted after the precheck: the precondition fails there until someone removes the blocker.
    await productionQuery(suite.h.lanesHome, held, `CREATE TABLE ${BLOCKER} (n int)`);
  }, 240_000);

  it('a precondition that keeps failing: the lane shows the step armed, retries within the window, then HOLDs naming it; nothing applied', async () => {
    const { workflowId, handle } = await armedExecution(held, 20_000); // long enough for the first check on a loaded machine
    const armed = await waitFor('the armed step to report its failing precondition', async () => {
      const st = await handle.query(statusQuery);
      return st.steps?.[0]?.lastCheck ? st : undefined;
    }, 60_000);
    expect(armed.steps![0]).toMatchObject({ id: 'qt001-apply', state: 'RUNNING', armedUntil: expect.stringMatching(/Z$/) });
    const result = (await handle.result()) as LaneStatus;
    expect(result.state).toBe('HOLD');
    expect(result.holdReason).toMatch(/armed window of step qt001-apply lapsed at .*precondition "no cutover blocker" does not hold \(got 1, expected 0\)/);
    expect((await scheduledActivities(suite.h.client, workflowId)).filter((a) => a === PRODUCTION).length).toBeGreaterThanOrEqual(2);
    expect(await ledger(held)).toEqual({ applied: [], tables: [BLOCKER] });
    await recordHistory(suite.h.client, workflowId, 'execution-armed-hold');
  });

  it('an owner HOLD while armed disarms it: HOLD naming the failing precondition; nothing applied', async () => {
    const { handle, send } = await armedExecution(held, 60_000);
    await waitFor('the armed step to report its failing precondition', async () => (await handle.query(statusQuery)).steps?.[0]?.lastCheck, 60_000);
    await send('HOLD');
    const result = (await handle.result()) as LaneStatus;
    expect(result.state).toBe('HOLD');
    expect(result.holdReason).toMatch(/the armed step was waiting on: .*precondition "no cutover blocker" does not hold/);
    expect(await ledger(held)).toEqual({ applied: [], tables: [BLOCKER] });
  });

  it('a window that lapsed before the lane could act: HOLD, no production activity scheduled', async () => {
    const { workflowId, handle } = await armedExecution(held, 1_000, { pauseAfterApplyMs: 1_500 });
    const result = (await handle.result()) as LaneStatus;
    expect(result.state).toBe('HOLD');
    expect(result.holdReason).toMatch(/armed window of step qt001-apply lapsed at .* before it could apply/);
    expect(await scheduledActivities(suite.h.client, workflowId)).not.toContain(PRODUCTION);
    expect(await ledger(held)).toEqual({ applied: [], tables: [BLOCKER] });
  });

  it('a grant that does not arm the armed step: HOLD, no production activity scheduled', async () => {
    const { workflowId, handle } = await armedExecution(held, undefined);
    const result = (await handle.result()) as LaneStatus;
    expect(result.state).toBe('HOLD');
    expect(result.holdReason).toMatch(/step qt001-apply is armed \(window 1m\) and its APPLY grant does not arm it/);
    expect(await scheduledActivities(suite.h.client, workflowId)).not.toContain(PRODUCTION);
  });

  it('preconditions that come to hold within the window: the step applies then, and the rest follows', async () => {
    const c = armedChange();
    await prepared(c);
    await productionQuery(suite.h.lanesHome, c, `CREATE TABLE ${BLOCKER} (n int)`);
    const { handle } = await armedExecution(c, 60_000);
    await waitFor('the armed step to report its failing precondition', async () => (await handle.query(statusQuery)).steps?.[0]?.lastCheck, 60_000);
    expect(await ledger(c)).toEqual({ applied: [], tables: [BLOCKER] });
    await productionQuery(suite.h.lanesHome, c, `DROP TABLE ${BLOCKER}`);
    const result = (await handle.result()) as LaneStatus;
    expect(result.state, result.failure ?? result.holdReason).toBe('COMPLETED');
    expect(await ledger(c)).toEqual({ applied: ['qt001-apply', 'qt001-activation'], tables: ['birth_registry'] });
  }, 180_000);
});
