/** What `lanes grant … --window` signs for an armed step, and what `lanes status` shows of one (no server needed). */
import { describe, expect, it } from 'vitest';
import { armWindow } from '../../src/cli/commands/grant';
import { renderStatus } from '../../src/cli/commands/status';
import type { LaneStatus } from '../../src/domain/lane-status';
import { readChangeSpecForTest } from '../support/fixtures';

const base = readChangeSpecForTest();
const change = { ...base, steps: [base.steps[0]!, { ...base.steps[1]!, window: '15m', preconditions: [{ name: 'quiet', sql: 'SELECT 0', expect: 0 }] }] };
const lane = { lane: 'execution', changeId: change.id } as never;
const binding = { change } as never;

describe('lanes grant --window', () => {
  it('arms an armed step for at most its window, and is required for it', () => {
    expect(armWindow(lane, binding, 'ACTIVATION', { window: '10m' })).toBe(600_000);
    expect(() => armWindow(lane, binding, 'ACTIVATION', {})).toThrow(/ACTIVATION arms qt001-activation \(window 15m\): pass --window \(at most 15m\)/);
    expect(() => armWindow(lane, binding, 'ACTIVATION', { window: '20m' })).toThrow(/--window 20m is longer than qt001-activation \(window 15m\) may be armed \(15m\); nothing was signed/);
    expect(() => armWindow(lane, binding, 'ACTIVATION', { window: 'soon' })).toThrow(/--window "soon" is not a duration/);
  });

  it('is refused where no armed step of that action exists, and absent it signs nothing extra', () => {
    expect(() => armWindow(lane, binding, 'APPLY', { window: '10m' })).toThrow(/this lane has no armed APPLY step; nothing was signed/);
    expect(armWindow(lane, binding, 'APPLY', {})).toBeUndefined();
  });
});

describe('lanes status of an armed step', () => {
  it('shows it armed until T, with its last check', () => {
    const s: LaneStatus = {
      workflowId: 'x.execution.1', changeId: change.id, lane: 'execution', state: 'RUNNING', requiredGrants: [], grantsPresent: [], grantsMissing: [], revoked: [], rejected: [], waitingFor: [], blockersOpen: [],
      steps: [{ id: 'qt001-activation', action: 'ACTIVATION', state: 'RUNNING', armedUntil: '2026-06-12T10:15:00.000Z', lastCheck: 'precondition "quiet" does not hold (got 1, expected 0)' }],
    };
    const out = renderStatus(s, 'http://ui');
    expect(out).toMatch(/qt001-activation +ACTIVATION +RUNNING, armed until 2026-06-12T10:15:00.000Z/);
    expect(out).toMatch(/armed step qt001-activation, last check: precondition "quiet" does not hold/);
  });
});
